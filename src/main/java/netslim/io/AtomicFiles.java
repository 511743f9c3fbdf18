package netslim.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

import netslim.NetslimException;

/**
 * Writes a file all-or-nothing: the content goes to a temporary file in the same directory (so the rename stays on
 * one file system), is flushed to disk, then atomically renamed over the target. On any failure the temporary file
 * is deleted and an existing target is left untouched, so a reader never sees a half-written file.
 */
public final class AtomicFiles {
    private static final AtomicLong COUNTER = new AtomicLong();
    /** Temporary files are {@code .<name>.<pid>.<n>.tmp}, write probes {@code .<name>.<pid>.<n>.probe}. */
    private static final String TEMP_SUFFIX = ".tmp", PROBE_SUFFIX = ".probe";

    private AtomicFiles() {
    }

    /** Produces the file's content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} atomically. I/O failures become a {@link NetslimException} naming the file; other runtime
     * exceptions from {@code content} propagate unchanged (after the temporary file is removed).
     */
    public static void write(Path file, Content content) {
        Path target = file.toAbsolutePath();
        Path tmp = createTemp(file, target, TEMP_SUFFIX);
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            // On POSIX file systems this is rename(2): it atomically replaces an existing target.
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot write: " + IoErrors.describe(e), e);
        } finally {
            if (!moved) deleteQuietly(tmp);
        }
    }

    /**
     * Creates and deletes the temporary file a write of {@code file} starts with, so a command can find out before
     * hours of work that the write would fail (missing directory, no permission, read-only file system): a
     * {@link NetslimException} naming the file, the directory and the reason.
     */
    public static void probe(Path file) {
        deleteQuietly(createTemp(file, file.toAbsolutePath(), PROBE_SUFFIX));
    }

    /**
     * {@code dir} exists, or is created, and takes a new file ({@link #probe}); otherwise a {@link NetslimException}
     * naming it and the reason, in one line without Java class names.
     */
    public static void requireWritableDirectory(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new NetslimException(dir + " exists and is not a directory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new NetslimException(dir + ": cannot create it (" + IoErrors.describe(e) + ")", e);
        }
        probe(dir.resolve("netslim-output"));
    }

    /**
     * A fresh hidden file next to the target. Not Files.createTempFile: that creates the file with mode 0600,
     * which the rename would then give the user's model file; CREATE_NEW keeps the usual umask permissions.
     */
    private static Path createTemp(Path file, Path target, String suffix) {
        Path dir = target.getParent();
        removeStaleTemps(dir, "." + target.getFileName() + ".");
        String base = "." + target.getFileName() + "." + ProcessHandle.current().pid() + ".";
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(base + COUNTER.incrementAndGet() + suffix);
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) throw new NetslimException(file + ": cannot create a temporary file in " + dir, e);
            } catch (IOException e) {
                throw new NetslimException(file + ": cannot write in " + dir + ": " + IoErrors.describe(e), e);
            }
        }
    }

    /**
     * Deletes the temporary files of earlier writes of the same target whose process is gone: a process killed with
     * SIGKILL (or a power cut) mid-write leaves its {@code .<name>.<pid>.<n>.tmp} (or {@code .probe}) behind, never
     * the target itself.
     * A live process's temporaries (another write in progress) are left alone.
     */
    private static void removeStaleTemps(Path dir, String prefix) {
        DirectoryStream.Filter<Path> ours = p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && (n.endsWith(TEMP_SUFFIX) || n.endsWith(PROBE_SUFFIX));
        };
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, ours)) {
            for (Path t : temps) {
                String n = t.getFileName().toString();
                String pidAndCount = n.substring(prefix.length(), n.lastIndexOf('.'));
                if (!pidAndCount.matches("\\d{1,18}\\.\\d{1,18}")) continue;
                long pid = Long.parseLong(pidAndCount.substring(0, pidAndCount.indexOf('.')));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                    deleteQuietly(t);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: leftovers waste space but never take the target's name
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // best effort: the write already failed and that failure is what the caller needs to see
        }
    }
}
