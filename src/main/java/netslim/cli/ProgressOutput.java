package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarConsumer;

/**
 * Where progress bars go: always stderr, never stdout (which carries the --json object). On a terminal, the
 * library's console consumer redraws one line in place; otherwise (a pipe, a CI log, a test's writer) a plain
 * consumer prints the rendered bar as an ordinary line at most every {@link #PLAIN_INTERVAL_MS} ms and once when the
 * bar closes, so logs get a few readable lines instead of carriage-return noise. {@code NETSLIM_PROGRESS=bar|plain}
 * overrides the detection.
 */
final class ProgressOutput {
    static final int PLAIN_WIDTH = 110;
    static final long PLAIN_INTERVAL_MS = 30_000;

    private ProgressOutput() {
    }

    /** True when fd 2 is a terminal (Linux: /proc/self/fd/2 links to a tty), or forced by NETSLIM_PROGRESS. */
    static boolean stderrIsTerminal() {
        String forced = System.getenv("NETSLIM_PROGRESS");
        if (forced != null) return forced.trim().toLowerCase(Locale.ROOT).equals("bar");
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false; // not Linux, or no /proc: assume a log file
        }
    }

    /** A consumer for one bar: the console one on a terminal, else plain lines on {@code err}. */
    static ProgressBarConsumer consumer(PrintWriter err, boolean terminal) {
        return terminal ? new ConsoleProgressBarConsumer(System.err) : new PlainLines(err, PLAIN_INTERVAL_MS);
    }

    /** Rendered bars as whole lines, throttled; the last rendering is always printed on close. */
    static final class PlainLines implements ProgressBarConsumer {
        private final PrintWriter err;
        private final long intervalMs;
        private long lastPrinted = System.currentTimeMillis();
        private String pending, lastLine;

        PlainLines(PrintWriter err, long intervalMs) {
            this.err = err;
            this.intervalMs = intervalMs;
        }

        @Override
        public int getMaxRenderedLength() {
            return PLAIN_WIDTH;
        }

        @Override
        public synchronized void accept(String rendered) {
            pending = rendered;
            long now = System.currentTimeMillis();
            if (now - lastPrinted >= intervalMs) flushPending(now);
        }

        private void flushPending(long now) {
            if (pending == null) return;
            String line = pending.stripTrailing();
            pending = null;
            if (line.equals(lastLine)) return; // the closing refresh repeats the last rendering
            err.println(line);
            err.flush();
            lastLine = line;
            lastPrinted = now;
        }

        @Override
        public void clear() {
        }

        @Override
        public synchronized void close() {
            flushPending(System.currentTimeMillis());
        }
    }
}
