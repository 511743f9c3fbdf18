package netslim.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import netslim.tensor.Tensor;

/** The one closeness assertion every numeric test uses: shape first, then |x − ref| ≤ atol + rtol·|ref|. */
public final class Close {
    private Close() {
    }

    public static void assertClose(Tensor actual, Tensor expected, double atol, double rtol, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        assertClose(actual.toArray(), expected.toArray(), atol, rtol, what);
    }

    public static void assertClose(float[] actual, float[] expected, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i];
            double excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
            if (Double.isNaN(a) != Double.isNaN(e) || excess > worstExcess || (Double.isNaN(excess) && worst < 0)) {
                worst = i;
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d is %.9g, reference %.9g (|diff| %.3g > atol %.1g + rtol %.1g*|ref|)",
                    what, worst, actual[worst], expected[worst], Math.abs(actual[worst] - expected[worst]), atol, rtol));
        }
    }

    /** Relative L2 error ‖a − b‖ / ‖b‖, in double. */
    public static double relL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }
}
