package netslim.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import netslim.NetslimException;
import netslim.io.AtomicFiles;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;

/**
 * Checks an output path before any long work starts, so a run does not train for an hour and then fail to save:
 * the directory must exist and accept a new file (tried for real: a permission check alone says yes to root on a
 * read-only file system), the path must not be a directory, and the file system must have room for the result.
 * Each failure is one line naming the option and the path.
 */
final class OutputPaths {
    private OutputPaths() {
    }

    /** {@code out} (given as {@code option}) can be written: its directory exists and takes a new file. */
    static void requireWritableFile(Path out, String option) {
        Path abs = out.toAbsolutePath();
        if (Files.isDirectory(abs)) throw new NetslimException(option + " " + out + " is a directory");
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NetslimException(option + " " + out + ": directory " + dir + " does not exist");
        }
        probe(out, option);
        if (Files.exists(abs) && !Files.isWritable(abs)) {
            throw new NetslimException(option + " " + out + " exists and is not writable");
        }
    }

    /** {@code dir} (given as {@code option}) exists, or can be created, and takes a new file. */
    static void requireWritableDirectory(Path dir, String option) {
        try {
            AtomicFiles.requireWritableDirectory(dir);
        } catch (NetslimException e) {
            throw new NetslimException(option + " " + e.getMessage(), e);
        }
    }

    /**
     * The file system of {@code out} has at least {@code bytes} free: an atomic save writes the whole new file
     * before the old one goes, so the old file's size does not count.
     */
    static void requireSpace(Path out, long bytes, String option) {
        Path dir = out.toAbsolutePath().getParent();
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return; // no figure to check against: the write itself still fails cleanly (AtomicFiles)
        }
        if (free < bytes) {
            throw new NetslimException(String.format(Locale.ROOT, "%s %s: only %s free in %s, the file needs about %s "
                    + "(disk full?)", option, out, size(free), dir, size(bytes)));
        }
    }

    /** Bytes an .nsm of {@code g} takes: its float32 parameters (times {@code copies}: 2 for a checkpoint) plus 1 MiB. */
    static long modelBytes(Graph g, int copies) {
        return 4L * copies * Zoo.parameterCount(g) + (1 << 20);
    }

    /** A write of {@code file} can begin (AtomicFiles creates its temporary file there); else one line naming option. */
    private static void probe(Path file, String option) {
        try {
            AtomicFiles.probe(file);
        } catch (NetslimException e) {
            throw new NetslimException(option + " " + e.getMessage(), e);
        }
    }

    private static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
