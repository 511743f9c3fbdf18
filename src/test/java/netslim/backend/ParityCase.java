package netslim.backend;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * One op-parity case: a seeded script that builds inputs on a backend, runs one or more Backend ops and keeps named
 * outputs. The same script runs on the reference and on the backend under test (same seed, so the same inputs);
 * {@code methods} names the Backend methods it exercises, for {@code BackendCoverageTest}.
 */
public record ParityCase(String name, Set<String> methods, double atol, double rtol, Consumer<Ctx> script) {

    /** Default tolerance: float sums of ≤ a few hundred O(1) terms against the reference's double sums. */
    static final double ATOL = 2e-5;
    static final double RTOL = 1e-4;

    public ParityCase(String name, Set<String> methods, Consumer<Ctx> script) {
        this(name, methods, ATOL, RTOL, script);
    }

    /** Runs the script on {@code backend}; returns the kept outputs as host arrays, in keeping order. */
    public Map<String, float[]> run(Backend backend, long seed) {
        Ctx ctx = new Ctx(backend, new Rng(seed ^ name.hashCode()));
        script.accept(ctx);
        return ctx.kept;
    }

    @Override
    public String toString() {
        return name;
    }

    /** What a case script sees: the backend, seeded tensor factories and the output register. */
    public static final class Ctx {
        public final Backend b;
        private final Rng rng;
        private final Map<String, float[]> kept = new LinkedHashMap<>();

        Ctx(Backend b, Rng rng) {
            this.b = b;
            this.rng = rng;
        }

        /** A backend tensor holding uniform values in [-1, 1). */
        public Tensor in(int... dims) {
            return upload(rng.uniform(Shape.of(dims)));
        }

        /** A backend tensor holding uniform values in [lo, hi). */
        public Tensor uniform(float lo, float hi, int... dims) {
            Tensor h = Tensor.zeros(dims);
            rng.fillUniform(h, lo, hi);
            return upload(h);
        }

        /** A backend tensor with values from {0, 0.25, ..., 1}: many ties, to check first-maximum rules. */
        public Tensor coarse(int... dims) {
            Tensor h = Tensor.zeros(dims);
            for (int i = 0; i < h.size(); i++) h.set(i, rng.nextInt(5) * 0.25f);
            return upload(h);
        }

        /**
         * An output or gradient buffer pre-filled with random values: forward ops must overwrite it, backward ops
         * must add to it, and either way the comparison sees whether they did.
         */
        public Tensor out(int... dims) {
            return in(dims);
        }

        public Tensor upload(Tensor host) {
            Tensor t = b.allocate(host.shape());
            b.upload(host, t);
            return t;
        }

        /** Downloads t now and registers it under {@code key}. */
        public void keep(String key, Tensor t) {
            Tensor h = Tensor.zeros(t.shape());
            b.download(t, h);
            kept.put(key, h.toArray());
        }

        public void keep(String key, float scalar) {
            kept.put(key, new float[] {scalar});
        }

        public Rng rng() {
            return rng;
        }
    }
}
