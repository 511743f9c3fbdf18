package netslim.backend.cpu;

/**
 * The register-blocked inner step of the blocked GEMM:
 * {@code C[i][j] = beta · C[i][j] + alpha · Σ_{p < kc} A(i, p) · Bpanel[p·nr + j]} for an mr x nr tile, where
 * {@code A(i, p) = a[aOff + i·aRowStride + p·aPStride]} (a packed panel: strides 1 and mr, alpha already folded in;
 * or op(A)'s rows in place). {@code beta == 0} must overwrite C without reading it.
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

    void run(int kc, float[] a, int aOff, int aRowStride, int aPStride, float alpha, float[] pb, int bOff,
             float beta, float[] c, int cOff, int ldc);
}
