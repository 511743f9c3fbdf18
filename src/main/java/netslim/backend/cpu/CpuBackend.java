package netslim.backend.cpu;

import netslim.backend.Backend;

/** The multi-threaded CPU backend (placeholder until the CPU backend lands). */
public abstract class CpuBackend implements Backend {
    /** CPU backend using {@code threads} threads and the given GEMM. */
    public static CpuBackend create(int threads, Gemm gemm) {
        throw new UnsupportedOperationException("TODO(cpu helper): CpuBackend");
    }

    /** All available cores, GEMM chosen by {@code -Dnetslim.gemm=auto|openblas|java} (default auto). */
    public static CpuBackend createDefault() {
        int t = Runtime.getRuntime().availableProcessors();
        return create(t, Gemm.select(System.getProperty("netslim.gemm", "auto"), t));
    }
}
