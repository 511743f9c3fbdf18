package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The Vector-API inner loops of {@link Gemv}; each leaves a scalar tail to its caller. */
final class GemvVectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private GemvVectorKernels() {
    }

    /**
     * Partial dot products of the 4 rows at {@code o + r·rs} (r < 4) with x (from xo), over whole vectors; writes
     * them to {@code sums} and returns the p where the scalar tail starts. One load of x serves 4 rows.
     */
    static int dot4(float[] m, int o, int rs, float[] x, int xo, int cols, float[] sums) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int p = 0;
        for (; p <= cols - V; p += V) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + p);
            s0 = FloatVector.fromArray(S, m, o + p).fma(xv, s0);
            s1 = FloatVector.fromArray(S, m, o + rs + p).fma(xv, s1);
            s2 = FloatVector.fromArray(S, m, o + 2 * rs + p).fma(xv, s2);
            s3 = FloatVector.fromArray(S, m, o + 3 * rs + p).fma(xv, s3);
        }
        sums[0] = s0.reduceLanes(VectorOperators.ADD);
        sums[1] = s1.reduceLanes(VectorOperators.ADD);
        sums[2] = s2.reduceLanes(VectorOperators.ADD);
        sums[3] = s3.reduceLanes(VectorOperators.ADD);
        return p;
    }

    /**
     * {@code acc[i] += Σ_{r<4} m[q0 + r·cs + i] · x[p + r]} over whole vectors of i; returns the i where the scalar
     * tail starts. Four sequential row streams into one accumulator slice: 5 loads and 1 store per 4 FMAs.
     */
    static int axpy4(float[] m, int q0, int cs, float[] x, int p, float[] acc, int len) {
        FloatVector x0 = FloatVector.broadcast(S, x[p]), x1 = FloatVector.broadcast(S, x[p + 1]);
        FloatVector x2 = FloatVector.broadcast(S, x[p + 2]), x3 = FloatVector.broadcast(S, x[p + 3]);
        int q1 = q0 + cs, q2 = q1 + cs, q3 = q2 + cs;
        int i = 0;
        for (; i <= len - V; i += V) {
            FloatVector s = FloatVector.fromArray(S, acc, i);
            s = FloatVector.fromArray(S, m, q0 + i).fma(x0, s);
            s = FloatVector.fromArray(S, m, q1 + i).fma(x1, s);
            s = FloatVector.fromArray(S, m, q2 + i).fma(x2, s);
            s = FloatVector.fromArray(S, m, q3 + i).fma(x3, s);
            s.intoArray(acc, i);
        }
        return i;
    }
}
