package netslim.tensor;

/**
 * A seeded, splittable random generator (SplitMix64). Its whole state is one long, so checkpoints can store and
 * restore it exactly. Never seeded from the clock.
 */
public final class Rng {
    private long state;

    public Rng(long seed) {
        this.state = seed;
    }

    public long state() {
        return state;
    }

    public void setState(long s) {
        state = s;
    }

    public long nextLong() {
        long z = (state += 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
        return (int) Math.floorMod(nextLong() >>> 1, (long) bound);
    }

    /** Standard normal (Box–Muller). */
    public double nextGaussian() {
        double u1 = nextDouble();
        double u2 = nextDouble();
        if (u1 < 1e-300) u1 = 1e-300;
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** An independent generator derived from this one (advances this one by one step). */
    public Rng split() {
        return new Rng(nextLong());
    }

    public void fillUniform(Tensor t, float lo, float hi) {
        float[] d = t.data();
        for (int i = 0; i < t.size(); i++) d[t.offset() + i] = lo + (hi - lo) * nextFloat();
    }

    public void fillGaussian(Tensor t, float mean, float std) {
        float[] d = t.data();
        for (int i = 0; i < t.size(); i++) d[t.offset() + i] = (float) (mean + std * nextGaussian());
    }

    /** A seeded tensor with uniform entries in [-1, 1), for tests. */
    public Tensor uniform(Shape shape) {
        Tensor t = Tensor.zeros(shape);
        fillUniform(t, -1f, 1f);
        return t;
    }

    /** Fisher–Yates shuffle of a permutation of 0..n-1. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
