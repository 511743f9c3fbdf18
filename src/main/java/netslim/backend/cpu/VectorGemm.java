package netslim.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pure-Java SGEMM: packed panels and a register-blocked Vector-API micro-kernel ({@link VectorMicroKernel},
 * 6 x 16 on AVX2), run over up to {@code threads} threads of the shared {@link GemmWorkers} pool. C is cut into a
 * few chunks per thread (column slabs when C is wide, row slabs when it is tall); threads take chunks from a shared
 * counter and run the whole blocked loop nest on each, so they never synchronise inside a chunk. {@code -Dnetslim.vector=false} swaps in a scalar micro-kernel with
 * the same packing. Matrix-vector shapes (m or n = 1) take the {@link Gemv} path.
 */
public final class VectorGemm implements Gemm {
    /** {@code -Dnetslim.vector=false} selects the scalar kernels (read once). */
    static final boolean VECTOR_BY_DEFAULT = !"false".equalsIgnoreCase(System.getProperty("netslim.vector"));
    /** Below this many FLOPs per thread a worker costs more to wake (~10–50 µs) than it saves. */
    private static final long MIN_FLOPS_PER_PART = 1L << 22;
    /** Chunks of C per thread for dynamic load balancing. */
    private static final int CHUNKS_PER_THREAD = 4;

    private final int threads;
    private final boolean vector;
    private final MicroKernel kernel;

    /** The Java GEMM on {@code threads} threads, vector or scalar per {@code -Dnetslim.vector}. */
    public VectorGemm(int threads) {
        this(threads, VECTOR_BY_DEFAULT);
    }

    /** The Java GEMM with the Vector-API kernels ({@code vector}) or the scalar ones. */
    public VectorGemm(int threads, boolean vector) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.vector = vector;
        this.kernel = vector ? new VectorMicroKernel() : new ScalarMicroKernel();
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
        GemmCall g = new GemmCall(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc)
                .check();
        if (g.finishTrivial() || Gemv.tryRun(g, vector, threads)) {
            return;
        }
        int mr = kernel.mr();
        int nr = kernel.nr();
        int tilesM = (m + mr - 1) / mr;
        int tilesN = (n + nr - 1) / nr;
        // Split the dimension with more tiles; each part gets a whole number of tiles.
        boolean splitColumns = tilesN >= tilesM;
        int tiles = splitColumns ? tilesN : tilesM;
        long flops = 2L * m * n * k;
        int parts = (int) Math.max(1, Math.min(Math.min(threads, tiles), flops / MIN_FLOPS_PER_PART));
        // More chunks than threads, handed out dynamically: a thread slowed by other work on its core (other
        // GEMM callers, the rest of the engine, other processes) then takes fewer chunks instead of stalling the
        // call. Each chunk re-packs its share of the other operand, so chunks stay large (>= MIN_FLOPS_PER_PART).
        int chunks = parts == 1 ? 1
                : (int) Math.max(parts, Math.min(Math.min(tiles, CHUNKS_PER_THREAD * parts), flops / MIN_FLOPS_PER_PART));
        AtomicInteger nextChunk = new AtomicInteger();
        GemmWorkers.run(parts, p -> {
            for (int q = nextChunk.getAndIncrement(); q < chunks; q = nextChunk.getAndIncrement()) {
                int t0 = GemmWorkers.split(tiles, chunks, q);
                int t1 = GemmWorkers.split(tiles, chunks, q + 1);
                if (splitColumns) {
                    BlockedGemm.run(kernel, g, 0, m, t0 * nr, Math.min(n, t1 * nr));
                } else {
                    BlockedGemm.run(kernel, g, t0 * mr, Math.min(m, t1 * mr), 0, n);
                }
            }
        });
    }

    @Override
    public String toString() {
        return "VectorGemm[threads=" + threads + (vector ? ", vector " + kernel.mr() + "x" + kernel.nr() : ", scalar")
                + "]";
    }
}
