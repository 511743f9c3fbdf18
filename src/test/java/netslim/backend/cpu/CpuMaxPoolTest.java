package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.stream.Stream;
import netslim.backend.PoolSpec;
import netslim.tensor.Rng;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Max pooling on the CPU backend (vectorised stride-1 path and scalar path) against the reference exactly, on inputs
 * built to stress the argmax rule: many ties (ReLU zeros, coarse values), NaN (propagates; the last NaN of a
 * window takes the gradient), -infinity (never beats the window's first in-image element) and planes whose width
 * is and is not a multiple of the vector length. y must have the same bits (NaN for NaN); dx agrees within rounding
 * (the reference sums the gradient of overlapping windows in another order), while a wrong argmax would move a
 * whole dy value (uniform in [-1, 1)) to another element.
 */
class CpuMaxPoolTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {2, 4, 28, 28}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {3, 5, 14, 14}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {2, 7, 7, 7}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {1, 3, 4, 3}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {1, 3, 9, 11}, PoolSpec.of(3, 1, 0, false)),
                Arguments.of(new int[] {1, 2, 13, 17}, PoolSpec.of(5, 1, 2, false)),
                Arguments.of(new int[] {1, 2, 10, 10}, PoolSpec.of(3, 1, 1, true)),
                Arguments.of(new int[] {2, 3, 16, 19}, new PoolSpec(3, 2, 1, 1, 1, 1, false, true)),
                Arguments.of(new int[] {2, 3, 28, 28}, PoolSpec.of(3, 2, 1, true)),
                Arguments.of(new int[] {1, 2, 14, 14}, PoolSpec.of(2, 2, 0, false)),
                Arguments.of(new int[] {2, 3, 17, 26}, PoolSpec.of(5, 3, 2, true)),
                // GoogLeNet's stride-2 pools (pad 0, ceil mode: the last window runs past the image), a wide plane
                Arguments.of(new int[] {1, 2, 15, 15}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {2, 3, 16, 16}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {1, 2, 33, 35}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {1, 1, 9, 40}, PoolSpec.of(3, 1, 1, true)),
                // 3x3 / 1 / pad 1 on the flat plane (FlatMax3): one row, two rows, a plane of just over a vector
                Arguments.of(new int[] {1, 2, 1, 12}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {2, 2, 2, 9}, PoolSpec.of(3, 1, 1, true)),
                Arguments.of(new int[] {1, 3, 5, 2}, PoolSpec.of(3, 1, 1, false)),
                Arguments.of(new int[] {1, 2, 56, 57}, PoolSpec.of(3, 1, 1, false)),
                // 3x3 / 2 and 2x2 / 2 at the strided positions only (StrideTwoMax): GoogLeNet's stem pool, ResNet's
                // (pad 1), odd sizes with and without ceil mode, a plane of just one vector of outputs, rows narrower
                // than a vector (GoogLeNet's maxpool3 28 -> 14 and 2x2 maxpool4 14 -> 7), wide 2x2 rows
                Arguments.of(new int[] {2, 3, 28, 28}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {2, 3, 14, 14}, PoolSpec.of(2, 2, 0, true)),
                Arguments.of(new int[] {1, 3, 13, 15}, PoolSpec.of(2, 2, 0, true)),
                Arguments.of(new int[] {1, 2, 9, 41}, PoolSpec.of(2, 2, 0, true)),
                Arguments.of(new int[] {2, 2, 12, 70}, PoolSpec.of(2, 2, 0, false)),
                Arguments.of(new int[] {1, 2, 11, 37}, PoolSpec.of(2, 2, 1, false)),
                Arguments.of(new int[] {1, 2, 112, 112}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {2, 2, 112, 112}, PoolSpec.of(3, 2, 1, false)),
                Arguments.of(new int[] {1, 3, 31, 33}, PoolSpec.of(3, 2, 1, true)),
                Arguments.of(new int[] {2, 2, 5, 34}, PoolSpec.of(3, 2, 0, false)),
                Arguments.of(new int[] {1, 2, 17, 17}, PoolSpec.of(3, 2, 0, true)),
                // w = 2·outW with the whole plane's windows in one flat pass (StrideTwoMax.flatPlane): padding 1
                // (the first window's first column clamped), GoogLeNet's maxpool2 geometry, exactly one vector of
                // outputs, fewer outputs than a vector on planes that are not the array's last, wide planes in bands
                // of rows (BAND_PAIRS 512: 90 -> 45 in bands of 11 rows, the last of 2; 92 -> 46, the last of 4; the
                // 112 -> 56 cases above in bands of 9, an output row waiting for the next band's first row)
                Arguments.of(new int[] {1, 3, 28, 28}, PoolSpec.of(3, 2, 1, false)),
                Arguments.of(new int[] {2, 3, 56, 56}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {1, 2, 8, 8}, PoolSpec.of(2, 2, 0, true)),
                Arguments.of(new int[] {3, 2, 6, 6}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {2, 2, 6, 10}, PoolSpec.of(3, 2, 1, false)),
                Arguments.of(new int[] {1, 2, 90, 90}, PoolSpec.of(3, 2, 0, true)),
                Arguments.of(new int[] {1, 2, 92, 92}, PoolSpec.of(3, 2, 0, true)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesReferenceExactly(int[] dims, PoolSpec spec) {
        var ref = ReferenceKernels.create();
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend cpu = CpuBackend.create(threads, Gemm.select("java", 1))) {
                for (long seed = 1; seed <= 3; seed++) {
                    Tensor x = awkwardInput(dims, seed);
                    int[] ydims = {dims[0], dims[1], spec.outH(dims[2]), spec.outW(dims[3])};
                    Tensor dy = new Rng(seed + 100).uniform(netslim.tensor.Shape.of(ydims));
                    Tensor y1 = Tensor.zeros(ydims), y2 = Tensor.zeros(ydims);
                    Tensor dx1 = Tensor.zeros(dims), dx2 = Tensor.zeros(dims);
                    ref.maxPool(x, y1, spec);
                    cpu.maxPool(x, y2, spec);
                    ref.maxPoolBackward(x, dy, dx1, spec);
                    cpu.maxPoolBackward(x, dy, dx2, spec);
                    sameBits("y", y1, y2, spec, threads, seed);
                    close("dx", dx1, dx2, spec, threads, seed);
                }
            }
        }
    }

    /**
     * Small planes (outputs narrower than a vector) on a fresh thread, whose per-thread pooling buffers no bigger
     * pool has grown first: the vector passes must stay inside them (the one over the last output row once wrote
     * past its buffer; it showed in the embedding tests' tiny googlenet-cifar once bigger pools took another path).
     */
    @Test
    void smallPlanesOnAFreshThread() throws Exception {
        PoolSpec[] specs = {PoolSpec.of(3, 2, 0, true), PoolSpec.of(2, 2, 0, true), PoolSpec.of(3, 1, 1, true),
                PoolSpec.of(3, 2, 1, false)};
        for (PoolSpec spec : specs) {
            for (int size = 3; size <= 13; size++) {
                int[] dims = {1, 2, size, size + 1};
                var failure = new java.util.concurrent.atomic.AtomicReference<Throwable>();
                Thread t = new Thread(() -> {
                    try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
                        Tensor x = awkwardInput(dims, 4);
                        int[] ydims = {1, 2, spec.outH(dims[2]), spec.outW(dims[3])};
                        Tensor want = Tensor.zeros(ydims), got = Tensor.zeros(ydims);
                        ReferenceKernels.create().maxPool(x, want, spec);
                        cpu.maxPool(x, got, spec);
                        sameBits("y", want, got, spec, 1, 4);
                        Tensor dy = new Rng(7).uniform(netslim.tensor.Shape.of(ydims));
                        Tensor dx1 = Tensor.zeros(dims), dx2 = Tensor.zeros(dims);
                        ReferenceKernels.create().maxPoolBackward(x, dy, dx1, spec);
                        cpu.maxPoolBackward(x, dy, dx2, spec);
                        close("dx", dx1, dx2, spec, 1, 4);
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                t.start();
                t.join();
                if (failure.get() != null) {
                    throw new AssertionError(java.util.Arrays.toString(dims) + " " + spec + " on a fresh thread: "
                            + failure.get(), failure.get());
                }
            }
        }
    }

    /** ReLU-like zeros, coarse repeated values, a few NaN and -infinity, one all -infinity plane. */
    private static Tensor awkwardInput(int[] dims, long seed) {
        Rng rng = new Rng(seed);
        Tensor x = Tensor.zeros(dims);
        float[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            double u = rng.nextDouble();
            if (u < 0.30) d[i] = 0f;
            else if (u < 0.35) d[i] = -0f; // ties of -0 and +0: the first in row-major order must win, bit for bit
            else if (u < 0.37) d[i] = Float.NaN;
            else if (u < 0.40) d[i] = Float.NEGATIVE_INFINITY;
            else d[i] = rng.nextInt(5) - 1;
        }
        int plane = dims[2] * dims[3];
        java.util.Arrays.fill(d, 0, plane, Float.NEGATIVE_INFINITY);
        return x;
    }

    private static void close(String what, Tensor ref, Tensor got, PoolSpec spec, int threads, long seed) {
        float[] r = ref.data(), g = got.data();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < r.length; i++) {
            double excess = Math.abs(g[i] - r[i]) - (1e-6 + 1e-6 * Math.abs(r[i]));
            if (!(excess <= worstExcess)) {
                worstExcess = excess;
                worst = i;
            }
        }
        if (worst >= 0) {
            fail(what + " differs at flat index " + worst + ": reference " + r[worst] + ", cpu " + g[worst] + " (" + spec
                    + ", threads " + threads + ", seed " + seed + ")");
        }
    }

    private static void sameBits(String what, Tensor ref, Tensor got, PoolSpec spec, int threads, long seed) {
        float[] r = ref.data(), g = got.data();
        assertEquals(r.length, g.length);
        for (int i = 0; i < r.length; i++) {
            if (Float.floatToIntBits(r[i]) != Float.floatToIntBits(g[i])) {
                fail(what + " differs at flat index " + i + ": reference " + r[i] + ", cpu " + g[i] + " (" + spec
                        + ", threads " + threads + ", seed " + seed + ")");
            }
        }
    }
}
