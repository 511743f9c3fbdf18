package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import netslim.backend.PoolSpec;
import netslim.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The stride-2 max pools' integer pass (StrideTwoMax.bitsPlane: columns first, integer maxima of the floats' bits on
 * flat planes of +0 up to +infinity, what pooling after a ReLU sees): on such planes it applies and gives the
 * reference's bits for 3x3 and 2x2 windows, padding 0 (ceil mode: the last window past the edge) and 1, output rows
 * of one vector and more; it declines output rows narrower than a vector, and a plane with a single negative number,
 * -0 or NaN anywhere, and the backend's result is the reference's either way.
 */
class StrideTwoMaxBitsTest {

    private static PoolSpec spec(int k, int pad, boolean ceil) {
        return PoolSpec.of(k, 2, pad, ceil);
    }

    private static float[] reference(float[] x, int h, int w, PoolSpec s) {
        Tensor t = Tensor.zeros(1, 1, h, w), y = Tensor.zeros(1, 1, s.outH(h), s.outW(w));
        System.arraycopy(x, 0, t.data(), 0, x.length);
        ReferenceKernels.create().maxPool(t, y, s);
        return y.data();
    }

    @ParameterizedTest(name = "{0}x{1} k{2} pad {3} ceil {4}")
    @CsvSource({
        "112, 112, 3, 0, true", // GoogLeNet's maxpool1 (56 outputs a row: 3.5 vectors, the last overlapping)
        "56, 56, 3, 0, true", // maxpool2 (28 outputs a row)
        "32, 32, 3, 0, true", "15, 32, 3, 0, true", "17, 40, 3, 0, true", // rows of exactly one vector; 20
        "112, 112, 3, 1, false", // ResNet's stem pool
        "34, 34, 3, 1, false", "9, 36, 3, 1, false",
        "32, 32, 2, 0, true", "13, 32, 2, 0, true", "12, 70, 2, 0, false"})
    void appliesToNonNegativePlanesWithTheReferenceBits(int h, int w, int k, int pad, boolean ceil) {
        PoolSpec s = spec(k, pad, ceil);
        for (long seed = 1; seed <= 5; seed++) {
            float[] x = FlatMaxBitsTest.nonNegative(h * w, seed), y = new float[s.outH(h) * s.outW(w)];
            String what = h + "x" + w + " " + s + " seed " + seed;
            assertTrue(CpuPooling.stride2Bits(x, h, w, s, y), what + ": non-negative plane declined");
            FlatMaxBitsTest.sameRawBits(reference(x, h, w, s), y, what);
        }
    }

    @ParameterizedTest(name = "{0}x{1} k{2} pad {3} ceil {4}")
    @CsvSource({"28, 28, 3, 0, true", "16, 16, 3, 0, true", "28, 28, 3, 1, false", "14, 14, 2, 0, true"})
    void declinesRowsNarrowerThanAVector(int h, int w, int k, int pad, boolean ceil) {
        PoolSpec s = spec(k, pad, ceil); // GoogLeNet's maxpool3 and 2x2 maxpool4 among them: the float pass serves them
        float[] x = FlatMaxBitsTest.nonNegative(h * w, 3);
        assertFalse(CpuPooling.stride2Bits(x, h, w, s, new float[s.outH(h) * s.outW(w)]), h + "x" + w + " " + s);
    }

    @ParameterizedTest(name = "{0}x{1} k{2} pad {3} ceil {4}")
    @CsvSource({"40, 40, 3, 0, true", "32, 32, 3, 0, true", "34, 34, 3, 1, false", "13, 32, 2, 0, true"})
    void declinesOneNegativeZeroNaNAnywhereAndTheBackendStaysExact(int h, int w, int k, int pad, boolean ceil) {
        PoolSpec s = spec(k, pad, ceil);
        int n = h * w, outs = s.outH(h) * s.outW(w);
        float[] bad = {-0f, -1f, -Float.MIN_VALUE, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001)};
        int[] positions = {0, n - 1, w - 1, w, n / 2, n - 2, n - w};
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (float b : bad) {
                for (int at : positions) {
                    float[] x = FlatMaxBitsTest.nonNegative(n, at + 11);
                    x[at] = b;
                    String what = h + "x" + w + " " + s + ", 0x" + Integer.toHexString(Float.floatToRawIntBits(b))
                            + " at " + at;
                    assertFalse(CpuPooling.stride2Bits(x, h, w, s, new float[outs]), what + ": taken");
                    // three planes through the backend, the bad value in the middle one
                    Tensor t = Tensor.zeros(1, 3, h, w), y = Tensor.zeros(1, 3, s.outH(h), s.outW(w));
                    float[] good = FlatMaxBitsTest.nonNegative(n, at + 12);
                    System.arraycopy(good, 0, t.data(), 0, n);
                    System.arraycopy(x, 0, t.data(), n, n);
                    System.arraycopy(good, 0, t.data(), 2 * n, n);
                    cpu.maxPool(t, y, s);
                    Tensor want = Tensor.zeros(1, 3, s.outH(h), s.outW(w));
                    ReferenceKernels.create().maxPool(t, want, s);
                    FlatMaxBitsTest.sameRawBits(want.data(), y.data(), what);
                }
            }
        }
    }
}
