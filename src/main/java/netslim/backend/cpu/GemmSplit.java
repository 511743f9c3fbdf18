package netslim.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How one GEMM's C is cut into chunks for the {@link GemmWorkers}: column slabs when C is wide, row slabs when it
 * is tall, each a whole number of units (the micro-kernel's tile), a few chunks per thread. Threads take chunks from
 * a shared counter, so a thread slowed by other work on its core (other GEMM callers, the rest of the engine, other
 * processes) takes fewer chunks instead of stalling the call. Each chunk re-packs its share of the other operand,
 * so chunks stay large (at least {@link #MIN_FLOPS_PER_CHUNK}).
 */
record GemmSplit(int m, int n, boolean columns, int units, int unit, int parts, int chunks) {
    /** Below this many FLOPs per thread a worker costs more to wake (~10–50 µs) than it saves. */
    static final long MIN_FLOPS_PER_CHUNK = 1L << 22;
    /** Chunks per thread, for load balancing. */
    static final int CHUNKS_PER_THREAD = 4;

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
        GemmWorkers.run(parts, p -> {
            for (int q = next.getAndIncrement(); q < chunks; q = next.getAndIncrement()) {
                int lo = GemmWorkers.split(units, chunks, q) * unit;
                int hi = GemmWorkers.split(units, chunks, q + 1) * unit;
                if (columns) {
                    body.run(0, m, lo, Math.min(n, hi));
                } else {
                    body.run(lo, Math.min(m, hi), 0, n);
                }
            }
        });
    }
}
