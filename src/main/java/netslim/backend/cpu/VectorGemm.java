package netslim.backend.cpu;

/**
 * The pure-Java SGEMM: packed panels and a register-blocked Vector-API micro-kernel ({@link VectorMicroKernel},
 * 6 x 16 on AVX2, 8 x 32 on AVX-512), run over up to {@code threads} of the engine's shared worker threads
 * ({@link WorkerPool#runParts}): C is cut into one chunk per thread by default ({@link GemmSplit}) and each chunk
 * runs the whole blocked loop nest ({@link BlockedGemm}), so threads never synchronise inside a chunk.
 * {@code -Dnetslim.vector=false} swaps in a scalar micro-kernel with the same packing. Matrix-vector shapes (m or
 * n = 1) take the {@link Gemv} path.
 */
public final class VectorGemm implements Gemm {
    /** {@code -Dnetslim.vector=false} selects the scalar kernels (read once). */
    static final boolean VECTOR_BY_DEFAULT = !"false".equalsIgnoreCase(System.getProperty("netslim.vector"));

    private final int threads;
    private final boolean vector;
    private final MicroKernel kernel;

    /** The Java GEMM on {@code threads} threads, vector or scalar per {@code -Dnetslim.vector}. */
    public VectorGemm(int threads) {
        this(threads, VECTOR_BY_DEFAULT);
    }

    /** The Java GEMM with the Vector-API kernels ({@code vector}) or the scalar ones. */
    public VectorGemm(int threads, boolean vector) {
        this(threads, vector ? new VectorMicroKernel() : new ScalarMicroKernel());
    }

    /** The Java GEMM on a given micro-kernel (tests also use it for the tile height this machine does not use). */
    VectorGemm(int threads, MicroKernel kernel) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.vector = kernel instanceof VectorMicroKernel;
        this.kernel = kernel;
    }

    @Override
    public String name() {
        return "java";
    }

    /** True when the Vector-API kernels are in use. */
    public boolean vectorized() {
        return vector;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                      float[] c, int offC, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, null);
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                      float[] c, int offC, int ldc, Epilogue epilogue) {
        GemmCall g = new GemmCall(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc)
                .check();
        if (g.finishTrivial() || Gemv.tryRun(g, vector, threads)) {
            if (epilogue != null) epilogue.apply(c, offC, ldc, 0, m, 0, n);
            return;
        }
        GemmSplit.plan(m, n, k, threads, kernel.mr(), kernel.nr()).run((i0, i1, j0, j1) -> {
            BlockedGemm.run(kernel, g, i0, i1, j0, j1);
            if (epilogue != null) epilogue.apply(c, offC, ldc, i0, i1, j0, j1);
        });
    }

    @Override
    public String toString() {
        return "VectorGemm[threads=" + threads + (vector ? ", vector " + kernel.mr() + "x" + kernel.nr() : ", scalar")
                + "]";
    }
}
