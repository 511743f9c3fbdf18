package netslim.backend.cpu;

/**
 * The register-blocked inner step of the packed GEMM: {@code C[mr x nr] += Apanel · Bpanel} over {@code kc},
 * where the A panel holds {@code mr} values per p (column of op(A)) and the B panel {@code nr} values per p.
 */
interface MicroKernel {
    int mr();

    int nr();

    void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float[] c, int cOff, int ldc);
}
