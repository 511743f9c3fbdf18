package netslim.testing;

import netslim.NetslimException;

/**
 * The contract every fuzzed reader keeps: an input either loads or is refused with a {@link NetslimException} whose
 * message is one non-empty line. Anything else (another exception, an {@link Error} such as OutOfMemoryError or
 * StackOverflowError) escapes and is a finding: Jazzer reports it in fuzzing mode, JUnit fails the seed in regression
 * mode.
 */
public final class FuzzContract {
    private FuzzContract() {
    }

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
            return false;
        }
    }
}
