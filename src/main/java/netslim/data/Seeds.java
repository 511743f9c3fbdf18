package netslim.data;

import netslim.tensor.Rng;

/**
 * Derived seeds: a generator for (seed, k1, k2, …) that depends only on those numbers, so epoch e's order and
 * example i's augmentation are reproducible alone (a resumed run, or a different thread timing, gets the same draws).
 */
final class Seeds {
    private Seeds() {
    }

    /** Each key is folded in with one SplitMix64 step (its finaliser is a bijection, so distinct keys stay distinct). */
    static Rng derive(long seed, long... keys) {
        long s = new Rng(seed).nextLong();
        for (long k : keys) s = new Rng(s ^ (k * 0xD1B54A32D192ED03L)).nextLong();
        return new Rng(s);
    }
}
