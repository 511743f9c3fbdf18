package netslim.backend.cpu;

/**
 * The register-blocked inner step of the packed GEMM: {@code C[mr x nr] = beta · C + Apanel · Bpanel} over
 * {@code kc}, where the A panel holds {@code mr} values per p (column of op(A)) and the B panel {@code nr} values
 * per p. {@code beta == 0} must overwrite C without reading it.
 */
interface MicroKernel {
    int mr();

    int nr();

    void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float beta, float[] c, int cOff, int ldc);
}
