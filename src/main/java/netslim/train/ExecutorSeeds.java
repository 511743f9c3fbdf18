package netslim.train;

import netslim.tensor.Rng;

/** The training executor's generator state at the start of a run, derived from the run's seed. */
final class ExecutorSeeds {
    private ExecutorSeeds() {
    }

    /** A stream distinct from the loader's (which folds the seed with other keys). */
    static long initial(long seed) {
        return new Rng(seed ^ 0x6A09E667F3BCC908L).nextLong();
    }
}
