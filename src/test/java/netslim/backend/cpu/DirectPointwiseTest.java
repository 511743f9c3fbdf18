package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import netslim.backend.ConvSpec;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-place pointwise conv (8 x 32 tile, x read where it lies, w packed once) against the double-accumulating
 * reference conv on seeded random inputs, on every machine (where the tile is not the machine's, it runs anyway:
 * slower, as correct): full and narrow last panels (HW 784, 196, 49, 33, 5, 1), full and partial last row tiles
 * (cout 16, 12, 9, 200), one and several k-blocks (cin 9, 300, 528), items split by rows (batch 1) and by images,
 * with and without bias and ReLU, on one and two threads, y pre-filled so every element must be overwritten.
 */
class DirectPointwiseTest {

    static Stream<Arguments> shapes() {
        return Stream.of(
                // n, cin, cout, h, w
                Arguments.of(1, 64, 64, 28, 28),   // full panels and tiles, batch 1 (rows split over items)
                Arguments.of(2, 300, 16, 14, 14),  // two k-blocks, a 4-column last panel, an inception reduction
                Arguments.of(3, 528, 24, 7, 7),    // three k-blocks, a 17-column last panel
                Arguments.of(1, 9, 12, 3, 11),     // a 33-column image: one full panel, one of a single column
                Arguments.of(2, 20, 9, 1, 5),      // one narrow panel, one full and one 1-row tile
                Arguments.of(4, 17, 200, 1, 1),    // a 1x1 map (the classifier side), 25 row tiles
                Arguments.of(1, 832, 48, 7, 7),    // inception5b's reduction shape
                Arguments.of(1, 14, 131, 28, 28),  // a Tucker chain's last 1x1: few inputs, many outputs
                // batch 1, 65-196 pixels, >= 256 inputs, <= 128 outputs: inputs split in halves on two threads
                Arguments.of(1, 511, 64, 14, 14),  // a pool projection: halves of 256 and 255, a 4-column panel
                Arguments.of(1, 300, 45, 9, 9),    // halves of 152 and 148, a 17-column panel, a 5-row tile
                Arguments.of(1, 256, 128, 10, 10)); // halves of 128, 16 row tiles
    }

    /**
     * Inside a lane (a worker of {@link WorkerPool#runOnWorkers}, where loops run on one thread) a call keeps the
     * one-thread path: the same bits as on a one-thread pool, not the input halves' other summation order.
     */
    @Test
    void aLaneKeepsTheOneThreadPath() {
        Rng rng = new Rng(77);
        ConvSpec s = ConvSpec.of(511, 64, 1, 1, 0);
        Tensor x = rng.uniform(Shape.of(1, 511, 14, 14)), packed = DirectPointwise.prepared(rng.uniform(
                Shape.of(64, 511, 1, 1)), s), bias = rng.uniform(Shape.of(64));
        Tensor one = Tensor.zeros(1, 64, 14, 14), lane = Tensor.zeros(1, 64, 14, 14);
        try (WorkerPool single = new WorkerPool(1); WorkerPool two = new WorkerPool(2)) {
            DirectPointwise.forward(single, x, packed, bias, one, s, true);
            WorkerPool.runOnWorkers(2, p -> {
                if (p == 0) DirectPointwise.forward(two, x, packed, bias, lane, s, true);
            });
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(one.toArray(), lane.toArray());
    }

    /** Which calls split their inputs over two threads ({@link DirectPointwise#splitsInputs}). */
    @Test
    void inputHalvesOnlyForOneImageOnSmallMapsWithManyInputsAndFewOutputs() {
        assertTrue(DirectPointwise.splitsInputs(1, 511, 64, 196, 2));
        assertTrue(DirectPointwise.splitsInputs(1, 256, 128, 65, 2));
        assertFalse(DirectPointwise.splitsInputs(2, 511, 64, 196, 2), "two images split by images");
        assertFalse(DirectPointwise.splitsInputs(1, 511, 64, 196, 1), "one thread");
        assertFalse(DirectPointwise.splitsInputs(1, 511, 64, 784, 2), "28x28: slower from memory");
        assertFalse(DirectPointwise.splitsInputs(1, 511, 64, 64, 2), "7x7: one item per image");
        assertFalse(DirectPointwise.splitsInputs(1, 255, 64, 196, 2), "few inputs");
        assertFalse(DirectPointwise.splitsInputs(1, 511, 136, 196, 2), "many outputs");
    }

    @ParameterizedTest(name = "n{0} cin{1} cout{2} {3}x{4}")
    @MethodSource("shapes")
    void matchesTheReferenceConv(int n, int cin, int cout, int h, int w) {
        Rng rng = new Rng(1009L * n + 31L * cin + cout + 7L * h + w);
        ConvSpec s = ConvSpec.of(cin, cout, 1, 1, 0);
        Tensor x = rng.uniform(Shape.of(n, cin, h, w));
        Tensor wt = rng.uniform(Shape.of(cout, cin, 1, 1));
        Tensor bias = rng.uniform(Shape.of(cout));
        Tensor packed = DirectPointwise.prepared(wt, s);
        Shape ys = Shape.of(n, cout, h, w);
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                Tensor want = ConvReference.of(x, wt, withBias ? bias : null, s, relu);
                for (int threads : new int[] {1, 2}) {
                    try (WorkerPool pool = new WorkerPool(threads)) {
                        Tensor y = rng.uniform(ys); // pre-filled: every element must be overwritten
                        y.set(0, Float.NaN);
                        DirectPointwise.forward(pool, x, packed, withBias ? bias : null, y, s, relu);
                        // Sums of cin products of O(1) terms in float, against the double reference.
                        Close.assertClose(y, want, 2e-6 * Math.sqrt(cin), 1e-5,
                                "direct pointwise bias=" + withBias + " relu=" + relu + " threads=" + threads);
                    }
                }
            }
        }
    }

    static Stream<Arguments> bands() {
        return Stream.of(
                // k, cout, n, ldb, ldc: GoogLeNet's stem band (147 = 3·7·7, 3 rows of 112), a 22-column last
                // panel with partial row tiles, a whole 256-deep block, one column, B rows wider than the band
                Arguments.of(147, 64, 336, 336, 12544),
                Arguments.of(245, 12, 438, 438, 5475),
                Arguments.of(256, 9, 70, 80, 100),
                Arguments.of(1, 8, 1, 1, 3),
                Arguments.of(27, 40, 96, 128, 96));
    }

    /**
     * {@link DirectPointwise#product} (the stem's bands: B a band's column matrix read in place, its rows ldb apart,
     * y's rows ldc apart) against a double-accumulating scalar product; y's elements past the n columns of each row
     * must keep their (NaN) contents.
     */
    @ParameterizedTest(name = "k{0} cout{1} n{2} ldb{3} ldc{4}")
    @MethodSource("bands")
    void productOnAStridedBand(int k, int cout, int n, int ldb, int ldc) {
        Rng rng = new Rng(17L * k + 5L * cout + n);
        float[] b = rng.uniform(Shape.of(k * ldb)).data(), w = rng.uniform(Shape.of(cout * k)).data();
        float[] bias = rng.uniform(Shape.of(cout)).data();
        float[] packed = new float[DirectPointwise.packedSize(cout, k)];
        DirectPointwise.pack(w, 0, cout, k, packed);
        for (boolean relu : new boolean[] {false, true}) {
            float[] y = new float[cout * ldc];
            java.util.Arrays.fill(y, Float.NaN);
            DirectPointwise.product(k, cout, n, b, 0, ldb, packed, 0, bias, 0, y, 0, ldc, relu);
            double tol = 2e-6 * Math.sqrt(k), worst = -1;
            String where = "";
            for (int r = 0; r < cout; r++) {
                for (int j = 0; j < ldc; j++) {
                    float got = y[r * ldc + j];
                    if (j >= n) {
                        assertTrue(Float.isNaN(got), "y[" + r + "][" + j + "] past the band's columns was written");
                        continue;
                    }
                    double want = bias[r];
                    for (int q = 0; q < k; q++) want += (double) w[r * k + q] * b[q * ldb + j];
                    if (relu) want = Math.max(want, 0);
                    double err = Math.abs(got - want) - (tol + 1e-5 * Math.abs(want));
                    if (!(err <= worst) || Float.isNaN(got)) {
                        worst = Float.isNaN(got) ? Double.POSITIVE_INFINITY : err;
                        where = "y[" + r + "][" + j + "] = " + got + ", reference " + want;
                    }
                }
            }
            assertTrue(worst <= 0, "relu=" + relu + ": worst element " + where);
        }
    }

    static Stream<Arguments> splits() {
        return Stream.of(
                // n, cin, member output counts, h, w
                Arguments.of(3, 40, new int[] {16, 24, 8}, 5, 7),      // narrow panels (35 columns), by images
                Arguments.of(1, 300, new int[] {64, 128, 16}, 14, 14), // batch 1: row tiles split over items
                Arguments.of(2, 17, new int[] {8, 8}, 1, 33),           // one column past a full panel
                Arguments.of(4, 192, new int[] {64, 96, 16}, 6, 6));    // inception3a's members on a small map
    }

    /**
     * {@link DirectPointwise#forwardSplit} (sibling 1x1s as one product, each member's rows into its own tensor)
     * against the reference conv of each member's own weights; every member's every element must be written (its
     * tensor pre-filled with NaN).
     */
    @ParameterizedTest(name = "n{0} cin{1} couts{2} {3}x{4}")
    @MethodSource("splits")
    void splitProductWritesEachMembersTensor(int n, int cin, int[] couts, int h, int w) {
        Rng rng = new Rng(7L * n + cin + 31L * couts.length + h * 5L + w);
        int cout = java.util.Arrays.stream(couts).sum();
        ConvSpec stacked = ConvSpec.of(cin, cout, 1, 1, 0);
        assertTrue(DirectPointwise.splits(stacked, couts) || !VectorMicroKernel.eightRowTile());
        Tensor x = rng.uniform(Shape.of(n, cin, h, w));
        Tensor wt = rng.uniform(Shape.of(cout, cin, 1, 1)), bias = rng.uniform(Shape.of(cout));
        Tensor packed = DirectPointwise.prepared(wt, stacked);
        for (boolean relu : new boolean[] {false, true}) {
            for (int threads : new int[] {1, 2}) {
                Tensor[] ys = new Tensor[couts.length];
                for (int m = 0; m < couts.length; m++) {
                    ys[m] = Tensor.zeros(Shape.of(n, couts[m], h, w));
                    java.util.Arrays.fill(ys[m].data(), Float.NaN);
                }
                try (WorkerPool pool = new WorkerPool(threads)) {
                    DirectPointwise.forwardSplit(pool, x, packed, bias, ys, stacked, relu);
                }
                for (int m = 0, r = 0; m < couts.length; r += couts[m], m++) {
                    ConvSpec own = ConvSpec.of(cin, couts[m], 1, 1, 0);
                    Tensor wm = Tensor.zeros(Shape.of(couts[m], cin, 1, 1)), bm = Tensor.zeros(Shape.of(couts[m]));
                    System.arraycopy(wt.data(), r * cin, wm.data(), 0, couts[m] * cin);
                    System.arraycopy(bias.data(), r, bm.data(), 0, couts[m]);
                    Close.assertClose(ys[m], ConvReference.of(x, wm, bm, own, relu), 2e-6 * Math.sqrt(cin), 1e-5,
                            "member " + m + " relu=" + relu + " threads=" + threads);
                }
            }
        }
    }

    @Test
    void splitsOnlyWhereNoTileSpansTwoMembers() {
        ConvSpec s = ConvSpec.of(32, 40, 1, 1, 0);
        assertEquals(VectorMicroKernel.eightRowTile(), DirectPointwise.splits(s, new int[] {16, 24}));
        assertTrue(!DirectPointwise.splits(s, new int[] {12, 28}), "a tile would span both members");
        assertTrue(!DirectPointwise.splits(s, new int[] {16, 16}), "the counts must add up to the stack");
        assertTrue(!DirectPointwise.splits(s, new int[] {40}), "one member is no split");
        Tensor x = Tensor.zeros(Shape.of(1, 32, 2, 2));
        Tensor packed = DirectPointwise.prepared(Tensor.zeros(Shape.of(40, 32, 1, 1)), s);
        Tensor[] wrong = {Tensor.zeros(Shape.of(1, 16, 2, 2)), Tensor.zeros(Shape.of(1, 16, 2, 2))};
        try (WorkerPool pool = new WorkerPool(1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> DirectPointwise.forwardSplit(pool, x, packed, null, wrong, s, false));
            assertTrue(e.getMessage().contains("outputs of ys total 32, not 40"), e.getMessage());
        }
    }

    @Test
    void packsEightRowPanelsKMajorWithZeroRows() {
        int cin = 3, cout = 10;
        ConvSpec s = ConvSpec.of(cin, cout, 1, 1, 0);
        Tensor wt = Tensor.zeros(Shape.of(cout, cin, 1, 1));
        for (int i = 0; i < wt.size(); i++) wt.set(i, i + 1);
        Tensor p = DirectPointwise.prepared(wt, s);
        assertEquals(Shape.of(2, cin, 8), p.shape());
        for (int t = 0; t < 2; t++) {
            for (int k = 0; k < cin; k++) {
                for (int r = 0; r < 8; r++) {
                    int row = t * 8 + r;
                    float want = row < cout ? wt.get(row * cin + k) : 0f;
                    assertEquals(want, p.get((t * cin + k) * 8 + r), "tile " + t + " k " + k + " row " + r);
                }
            }
        }
    }

    @Test
    void nanInTheInputReachesItsOutputsOnly() {
        ConvSpec s = ConvSpec.of(4, 8, 1, 1, 0);
        Rng rng = new Rng(5);
        Tensor x = rng.uniform(Shape.of(1, 4, 2, 40));
        Tensor wt = rng.uniform(Shape.of(8, 4, 1, 1));
        x.set(1 * 80 + 37, Float.NaN); // channel 1, pixel 37: in the narrow second panel
        Tensor y = Tensor.zeros(Shape.of(1, 8, 2, 40));
        try (WorkerPool pool = new WorkerPool(2)) {
            DirectPointwise.forward(pool, x, DirectPointwise.prepared(wt, s), null, y, s, true);
        }
        for (int c = 0; c < 8; c++) {
            for (int p = 0; p < 80; p++) {
                float v = y.get(c * 80 + p);
                assertEquals(p == 37, Float.isNaN(v), "channel " + c + " pixel " + p + ": " + v);
            }
        }
    }

    @Test
    void refusesWhatItDoesNotTake() {
        ConvSpec strided = ConvSpec.of(4, 8, 1, 2, 0);
        Tensor wt = Tensor.zeros(Shape.of(8, 4, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> DirectPointwise.prepared(wt, strided));
        ConvSpec s = ConvSpec.of(4, 8, 1, 1, 0);
        Tensor packed = DirectPointwise.prepared(wt, s);
        try (WorkerPool pool = new WorkerPool(1)) {
            var e = assertThrows(RuntimeException.class, () -> DirectPointwise.forward(pool,
                    Tensor.zeros(Shape.of(1, 5, 2, 2)), packed, null, Tensor.zeros(Shape.of(1, 8, 2, 2)), s, false));
            assertTrue(e.getMessage().contains("conv2dPrepared"), e.getMessage());
        }
    }

    @Test
    void theBackendPreparesPointwiseWeightsOnlyWhereTheTileIsTheMachines() {
        ConvSpec s = ConvSpec.of(64, 32, 1, 1, 0);
        Tensor wt = Tensor.zeros(Shape.of(32, 64, 1, 1));
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            Tensor p = cpu.prepareConvWeights(wt, s, Shape.of(1, 64, 14, 14));
            if (DirectPointwise.takes(s, Shape.of(1, 64, 14, 14))) assertEquals(Shape.of(4, 64, 8), p.shape());
            else assertNull(p);
            // Wider than MAX_OUT: here only with few inputs (a Tucker chain's last 1x1), else the GEMM's
            ConvSpec few = ConvSpec.of(14, 131, 1, 1, 0), many = ConvSpec.of(33, 131, 1, 1, 0);
            Shape x28 = Shape.of(1, 14, 28, 28);
            Tensor pf = cpu.prepareConvWeights(Tensor.zeros(Shape.of(131, 14, 1, 1)), few, x28);
            if (VectorMicroKernel.eightRowTile()) {
                assertNotNull(pf, "14 -> 131 (few inputs) runs on the tile");
                assertEquals(Shape.of(17, 14, 8), pf.shape());
            }
            assertNull(cpu.prepareConvWeights(Tensor.zeros(Shape.of(131, 33, 1, 1)), many, Shape.of(1, 33, 28, 28)));
            // Skinny pointwise convs (at most 8 channels in or out) keep their own kernel.
            assertNull(cpu.prepareConvWeights(Tensor.zeros(Shape.of(8, 64, 1, 1)), ConvSpec.of(64, 8, 1, 1, 0),
                    Shape.of(1, 64, 14, 14)));
        }
    }
}
