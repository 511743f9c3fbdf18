package netslim.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.NetslimException;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<Path> listing() throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void failureMidWriteLeavesNoFileBehind() throws IOException {
        Path f = dir.resolve("out.bin");
        NetslimException e = assertThrows(NetslimException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[100_000]);
            throw new IOException("disk full");
        }));
        assertTrue(e.getMessage().contains("out.bin") && e.getMessage().contains("disk full"), e.getMessage());
        assertEquals(List.of(), listing());
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals(List.of(), listing());
    }

    @Test
    void failureMidWriteKeepsTheExistingFile() throws IOException {
        Path f = Files.write(dir.resolve("out.bin"), new byte[] {1, 2, 3});
        assertThrows(NetslimException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[] {9, 9, 9, 9, 9});
            throw new IOException("interrupted");
        }));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
        assertEquals(List.of(f), listing());
    }

    @Test
    void successReplacesTheFileWithUsualPermissions() throws IOException {
        Path f = Files.write(dir.resolve("out.bin"), new byte[] {1, 2, 3});
        AtomicFiles.write(f, out -> out.write(new byte[] {4, 5}));
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(f));
        assertEquals(List.of(f), listing());
        Path g = dir.resolve("new.bin");
        AtomicFiles.write(g, out -> out.write(7));
        // not createTempFile's 0600: the same permissions as any file created under the current umask
        Path probe = Files.createFile(dir.resolve("probe"));
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(g));
    }

    @Test
    void targetThatIsADirectoryFailsCleanly() throws IOException {
        Path d = Files.createDirectory(dir.resolve("taken"));
        Files.write(d.resolve("inner"), new byte[1]);
        NetslimException e = assertThrows(NetslimException.class, () -> AtomicFiles.write(d, out -> out.write(1)));
        assertTrue(e.getMessage().contains("taken"), e.getMessage());
        assertEquals(List.of(d), listing());
    }
}
