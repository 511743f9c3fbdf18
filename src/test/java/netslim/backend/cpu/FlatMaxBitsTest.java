package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import netslim.backend.PoolSpec;
import netslim.tensor.Rng;
import netslim.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The 3x3 / 1 / pad 1 max pool's integer pass (FlatMax3.bitsPlane: integer maxima of the floats' bits on planes of
 * +0 up to +infinity, what pooling after a ReLU sees): on such planes it applies and gives the reference's bits; a
 * single negative number, -0 or NaN anywhere in the plane (first, last, row ends, middle) makes it decline, and the
 * backend's result is the reference's either way.
 */
class FlatMaxBitsTest {

    /**
     * ReLU-like: many +0, coarse repeated values (ties), tiny subnormals, large values and +infinity (also the
     * stride-2 pools' integer pass, StrideTwoMaxBitsTest).
     */
    static float[] nonNegative(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble();
            if (u < 0.40) d[i] = 0f;
            else if (u < 0.45) d[i] = Float.MIN_VALUE * (1 + rng.nextInt(3));
            else if (u < 0.47) d[i] = Float.POSITIVE_INFINITY;
            else if (u < 0.50) d[i] = Float.MAX_VALUE;
            else if (u < 0.75) d[i] = rng.nextInt(4);
            else d[i] = (float) rng.nextDouble() * 1e3f;
        }
        return d;
    }

    private static float[] reference(float[] x, int h, int w) {
        Tensor t = Tensor.zeros(1, 1, h, w), y = Tensor.zeros(1, 1, h, w);
        System.arraycopy(x, 0, t.data(), 0, x.length);
        ReferenceKernels.create().maxPool(t, y, PoolSpec.of(3, 1, 1, false));
        return y.data();
    }

    static void sameRawBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + ": y differs at " + i + ": reference " + want[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])) + "), got " + got[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + ")");
            }
        }
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"28, 28", "14, 14", "7, 7", "1, 19", "2, 9", "9, 2", "9, 40", "3, 33"})
    void appliesToNonNegativePlanesWithTheReferenceBits(int h, int w) {
        for (long seed = 1; seed <= 5; seed++) {
            float[] x = nonNegative(h * w, seed), y = new float[h * w];
            assertTrue(CpuPooling.flatMax3Bits(x, h, w, y), "non-negative plane " + h + "x" + w + " declined");
            sameRawBits(reference(x, h, w), y, h + "x" + w + " seed " + seed);
        }
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"28, 28", "7, 7", "1, 19", "2, 9", "9, 2"})
    void declinesOneNegativeZeroNaNAnywhereAndTheBackendStaysExact(int h, int w) {
        int n = h * w;
        float[] bad = {-0f, -1f, -Float.MIN_VALUE, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001)};
        int[] positions = {0, n - 1, w - 1, Math.min(n - 1, w), n / 2, n - 2};
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            for (float b : bad) {
                for (int at : positions) {
                    float[] x = nonNegative(n, at + 11);
                    x[at] = b;
                    String what = h + "x" + w + ", 0x" + Integer.toHexString(Float.floatToRawIntBits(b)) + " at " + at;
                    assertFalse(CpuPooling.flatMax3Bits(x, h, w, new float[n]), what + ": taken");
                    Tensor t = Tensor.zeros(1, 1, h, w), y = Tensor.zeros(1, 1, h, w);
                    System.arraycopy(x, 0, t.data(), 0, n);
                    cpu.maxPool(t, y, PoolSpec.of(3, 1, 1, false));
                    sameRawBits(reference(x, h, w), y.data(), what);
                }
            }
        }
    }
}
