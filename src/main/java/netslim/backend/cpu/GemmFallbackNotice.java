package netslim.backend.cpu;

import java.util.concurrent.atomic.AtomicBoolean;

/** Prints the "OpenBLAS unavailable, using the Java GEMM" line on stderr once per JVM, not once per backend. */
final class GemmFallbackNotice {
    private static final AtomicBoolean PRINTED = new AtomicBoolean();

    private GemmFallbackNotice() {
    }

    static void once(String line) {
        if (PRINTED.compareAndSet(false, true)) {
            System.err.println(line);
        }
    }
}
