package netslim.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.NetslimException;

/** What a crash leaves behind is cleaned up by the next write, and a write is probed before long work. */
class AtomicFilesRecoveryTest {
    @Test
    void theNextWriteRemovesTheTemporariesOfDeadProcessesOnly(@TempDir Path dir) throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long dead = gone.pid(), alive = ProcessHandle.current().parent().orElseThrow().pid();
        Path deadTemp = dir.resolve(".m.nsm." + dead + ".3.tmp"), deadProbe = dir.resolve(".m.nsm." + dead + ".1.probe");
        Path liveTemp = dir.resolve(".m.nsm." + alive + ".1.tmp"), other = dir.resolve(".other.nsm." + dead + ".1.tmp");
        for (Path p : new Path[] {deadTemp, deadProbe, liveTemp, other}) Files.writeString(p, "half a file");

        AtomicFiles.write(dir.resolve("m.nsm"), out -> out.write(new byte[] {1, 2, 3}));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(dir.resolve("m.nsm")));
        assertFalse(Files.exists(deadTemp), "a killed writer's temporary file");
        assertFalse(Files.exists(deadProbe), "a killed writer's probe");
        assertTrue(Files.exists(liveTemp), "a live process may still be writing it");
        assertTrue(Files.exists(other), "another target's temporaries are not this write's business");
    }

    @Test
    void aProbeLeavesNothingAndFailsWhereAWriteWould(@TempDir Path dir) throws IOException {
        AtomicFiles.probe(dir.resolve("m.nsm"));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
        NetslimException e = assertThrows(NetslimException.class,
                () -> AtomicFiles.probe(dir.resolve("missing").resolve("m.nsm")));
        assertTrue(e.getMessage().contains("cannot write in " + dir.resolve("missing")), e.getMessage());
    }
}
