package netslim.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How one GEMM's C is cut into chunks for the shared workers ({@link WorkerPool#runParts}): column slabs when C is
 * wide, row slabs when it is tall, each a whole number of units (the micro-kernel's tile), one chunk per thread by
 * default ({@code -Dnetslim.gemm.chunksPerThread=N} for more). Threads take chunks from a shared counter, so with
 * several chunks per thread a thread slowed by other work on its core takes fewer of them. That balancing did not pay:
 * each chunk re-stages and re-packs the whole other operand (a row slab all of B), and with 4 chunks per thread
 * GoogLeNet-224 took 43.3 ms at batch 1 and 324 ms at batch 8 against 36.8 / 283 ms with one (OpenBLAS, 2
 * threads, quiet), and 70.1 against 60.1 ms at batch 1 with the other core busy (bench/RESULTS.md, session 4).
 * Chunks stay at least {@link #MIN_FLOPS_PER_CHUNK}.
 */
record GemmSplit(int m, int n, boolean columns, int units, int unit, int parts, int chunks) {
    /** Below this many FLOPs per thread a worker costs more to wake (~10–50 µs) than it saves. */
    static final long MIN_FLOPS_PER_CHUNK = 1L << 22;
    /** Chunks per thread (load balancing, at the price of re-packing; see above). */
    static final int CHUNKS_PER_THREAD = Math.max(1, Integer.getInteger("netslim.gemm.chunksPerThread", 1));

    /** A C block [i0, i1) x [j0, j1). */
    interface ChunkBody {
        void run(int i0, int i1, int j0, int j1);
    }

    static GemmSplit plan(int m, int n, int k, int threads, int rowUnit, int colUnit) {
        int rowUnits = (m + rowUnit - 1) / rowUnit;
        int colUnits = (n + colUnit - 1) / colUnit;
        boolean columns = colUnits >= rowUnits;
        int units = columns ? colUnits : rowUnits;
        long flops = 2L * m * n * k;
        int parts = (int) Math.max(1, Math.min(Math.min(threads, units), flops / MIN_FLOPS_PER_CHUNK));
        long wanted = Math.min(Math.min(units, CHUNKS_PER_THREAD * parts), flops / MIN_FLOPS_PER_CHUNK);
        int chunks = parts == 1 ? 1 : (int) Math.max(parts, wanted);
        return new GemmSplit(m, n, columns, units, columns ? colUnit : rowUnit, parts, chunks);
    }

    /** Runs {@code body} on every chunk, over {@code parts} threads (the caller's included). */
    void run(ChunkBody body) {
        AtomicInteger next = new AtomicInteger();
        WorkerPool.runParts(parts, p -> {
            for (int q = next.getAndIncrement(); q < chunks; q = next.getAndIncrement()) {
                int lo = WorkerPool.split(units, chunks, q) * unit;
                int hi = WorkerPool.split(units, chunks, q + 1) * unit;
                if (columns) {
                    body.run(0, m, lo, Math.min(n, hi));
                } else {
                    body.run(lo, Math.min(m, hi), 0, n);
                }
            }
        });
    }
}
