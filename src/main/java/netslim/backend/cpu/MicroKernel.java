package netslim.backend.cpu;

/**
 * The register-blocked inner step of the packed GEMM: {@code C[mr x nr] = beta · C + Apanel · Bpanel} over
 * {@code kc}, where the A panel holds {@code mr} values per p (column of op(A)) and the B panel {@code nr} values
 * per p. {@code beta == 0} must overwrite C without reading it.
 */
interface MicroKernel {
    int mr();

    int nr();

    /**
     * The kernel for a last B panel of at most {@code narrow().nr()} columns (same mr), which wastes fewer FMAs on
     * zero padding than this one; packing uses its nr for that panel.
     */
    default MicroKernel narrow() {
        return this;
    }

    void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float beta, float[] c, int cOff, int ldc);
}
