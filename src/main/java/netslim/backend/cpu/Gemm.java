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
     * Work on a finished block of C: rows [i0, i1) and columns [j0, j1) of the call's C (element (i, j) at
     * c[offC + i·ldc + j]). Called once per block, on the thread that computed it, while the block is in cache.
     */
    @FunctionalInterface
    interface Epilogue {
        void apply(float[] c, int offC, int ldc, int i0, int i1, int j0, int j1);
    }

    /**
     * {@link #sgemm} followed by {@code epilogue} on every element of C, exactly once per element. The default runs
     * it on the whole C afterwards; implementations that cut C into blocks run it per block right after computing
     * the block (conv's bias + ReLU while the output is still in cache, with no extra pass over C).
     */
    default void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                       float[] c, int offC, int ldc, Epilogue epilogue) {
        sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        if (epilogue != null) epilogue.apply(c, offC, ldc, 0, m, 0, n);
    }

    /**
     * Selects an implementation: "openblas", "java", or "auto". {@code threads} is the number of threads the GEMM
     * may use. "auto" picks OpenBLAS when its native library loads, else the Java kernel (saying so once on stderr).
     * OpenBLAS runs single-threaded per slab of C on the shared workers ({@link OpenBlasGemm}); measured side by
     * side on 2 cores with both cores also busy with other jobs (bench/RESULTS.md, "OpenBLAS in slabs"), it beat the
     * Java kernel on every GoogLeNet shape (median GFLOP/s 45–70 against 37–58). Before the slabs, OpenBLAS's own
     * threads collapsed under such load, and "auto" used the Java kernel for several threads.
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
