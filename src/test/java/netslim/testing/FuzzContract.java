package netslim.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import netslim.NetslimException;

/**
 * The contract every fuzzed reader keeps: an input either loads or is refused with a {@link NetslimException} whose
 * message is one non-empty line without Java class names. Anything else (another exception, an {@link Error} such as OutOfMemoryError or
 * StackOverflowError) escapes and is a finding: Jazzer reports it in fuzzing mode, JUnit fails the seed in regression
 * mode.
 */
public final class FuzzContract {
    private FuzzContract() {
    }

    /** A fully qualified exception class, which no user-facing message should show. */
    private static final Pattern JAVA_CLASS = Pattern.compile("\\b(java|javax|jdk|sun|com|org)\\.[\\w.]+(Exception|Error)\\b");

    /** A reader call that may throw anything. */
    @FunctionalInterface
    public interface Load {
        void run() throws Exception;
    }

    /** Runs {@code load}; returns true when it loaded, false when it was refused with a proper one-line error. */
    public static boolean loadsOrRefuses(Load load) throws Exception {
        try {
            load.run();
            return true;
        } catch (NetslimException e) {
            String m = e.getMessage();
            if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
                throw new AssertionError("a refusal must be one non-empty line, got: " + m, e);
            }
            if (JAVA_CLASS.matcher(m).find()) {
                throw new AssertionError("a refusal must not name Java exception classes, got: " + m, e);
            }
            return false;
        }
    }

    /**
     * A directory for the files fuzz inputs are written to (the readers take paths): in memory on /dev/shm where it
     * exists, since a disk write costs milliseconds per input here (IDX fuzzing went from ~150 to thousands of inputs
     * a second); deleted when the JVM exits.
     */
    public static Path scratchDirectory(String name) {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, name)
                    : Files.createTempDirectory(name);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort at exit
        }
    }
}
