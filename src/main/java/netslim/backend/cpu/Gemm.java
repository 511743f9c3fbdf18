package netslim.backend.cpu;

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
     * Selects an implementation: "openblas", "java", or "auto" (OpenBLAS when its native library loads, else the
     * Java kernel, saying so on stderr). {@code threads} is the number of threads the GEMM may use.
     */
    static Gemm select(String which, int threads) {
        throw new UnsupportedOperationException("TODO(gemm helper): Gemm.select");
    }
}
