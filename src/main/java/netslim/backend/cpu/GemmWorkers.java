package netslim.backend.cpu;

import java.util.function.IntConsumer;

/**
 * Where the GEMM runs its parts: on the engine's shared worker threads ({@link WorkerPool#runParts}), so that no
 * call creates threads and GEMM slabs never compete with a backend pool's own threads for the cores. The calling
 * thread takes parts too; a part is claimed by whichever thread is free first.
 */
final class GemmWorkers {
    private GemmWorkers() {
    }

    /** Runs {@code body.accept(p)} for p in [0, parts); rethrows the first failure. */
    static void run(int parts, IntConsumer body) {
        WorkerPool.runParts(parts, body);
    }

    /** Splits {@code units} into {@code parts} contiguous, balanced ranges; returns the start of range p. */
    static int split(int units, int parts, int p) {
        return (int) ((long) units * p / parts);
    }
}
