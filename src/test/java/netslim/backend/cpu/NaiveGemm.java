package netslim.backend.cpu;

/**
 * A plain triple-loop GEMM for tests (single-threaded, float accumulation): lets the CPU backend be tested with a
 * third, independent GEMM beside OpenBLAS and the Vector-API kernel. beta = 0 writes C without reading it.
 */
public final class NaiveGemm implements Gemm {
    @Override
    public String name() {
        return "naive";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                      float[] c, int offC, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float dot = 0;
                for (int p = 0; p < k; p++) {
                    dot += a[offA + (transA ? p * lda + i : i * lda + p)] * b[offB + (transB ? j * ldb + p : p * ldb + j)];
                }
                int ci = offC + i * ldc + j;
                c[ci] = alpha * dot + (beta == 0 ? 0 : beta * c[ci]);
            }
        }
    }
}
