package netslim.backend.cpu;

import netslim.NetslimException;

/**
 * The CPU GEMM seam: row-major {@code C = alpha * op(A) * op(B) + beta * C} on float arrays with offsets and
 * leading dimensions (row strides of the stored matrices). Implementations: OpenBLAS (default) and a pure-Java
 * Vector-API kernel (portable fallback).
 */
public interface Gemm {

    /** "openblas" or "java". */
    String name();

    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
               float[] c, int offC, int ldc);

    /**
     * Selects an implementation: "openblas", "java", or "auto". {@code threads} is the number of threads the GEMM
     * may use. "auto" picks OpenBLAS for one thread (when its native library loads, else the Java kernel, saying so
     * on stderr) and the Java kernel for several: multi-threaded OpenBLAS spins its workers and collapses when they
     * share the cores with our own worker pool or other load (measured on 2 cores under load: googlenet-cifar
     * training at 2–3 images/s with 2-thread OpenBLAS against 13–20 with the 2-thread Java GEMM and 24 with
     * 1-thread OpenBLAS; see bench/RESULTS.md). Ask for "openblas" explicitly on a quiet machine.
     */
    static Gemm select(String which, int threads) {
        if (threads < 1) {
            throw new NetslimException("GEMM threads must be >= 1, got " + threads);
        }
        String name = which == null ? "auto" : which.trim().toLowerCase(java.util.Locale.ROOT);
        switch (name) {
            case "openblas":
                return new OpenBlasGemm(threads); // NetslimException (one line) when the library cannot load
            case "java":
                return new VectorGemm(threads);
            case "auto":
                if (threads > 1) {
                    return new VectorGemm(threads);
                }
                if (OpenBlasGemm.loadFailure() == null) {
                    return new OpenBlasGemm(threads);
                }
                GemmFallbackNotice.once("netslim: OpenBLAS unavailable ("
                        + OpenBlasGemm.oneLine(OpenBlasGemm.loadFailure()) + "), using the Java GEMM");
                return new VectorGemm(threads);
            default:
                throw new NetslimException("unknown GEMM '" + which + "': expected auto, openblas or java");
        }
    }
}
