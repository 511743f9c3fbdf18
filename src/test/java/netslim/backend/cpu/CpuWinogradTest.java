package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Winograd F(2x2, 3x3) against the double-accumulating reference conv on seeded random inputs: odd and even sizes
 * (cropped last tile row / column), padding 0, 1 and 2, channel counts that are not multiples of the micro-kernel's
 * 6 x 16 tile, batches whose tile rows straddle chunk boundaries, with and without bias and ReLU, on one and two
 * threads, with OpenBLAS (plain U) and the Java micro-kernel (packed U) for the 16 products.
 */
class CpuWinogradTest {

    static Stream<Arguments> shapes() {
        return Stream.of(
                // n, c, k, h, w, pad
                Arguments.of(1, 3, 4, 5, 5, 1),
                Arguments.of(2, 5, 7, 7, 6, 1),
                Arguments.of(1, 16, 24, 13, 14, 1),
                Arguments.of(3, 8, 6, 9, 11, 0),
                Arguments.of(1, 4, 5, 6, 7, 2),
                Arguments.of(2, 17, 19, 28, 28, 1),
                Arguments.of(1, 20, 13, 3, 3, 0),   // a single output
                Arguments.of(5, 9, 11, 7, 7, 1),    // many images of 4x4 tiles
                Arguments.of(1, 64, 40, 56, 56, 1)); // conv3's tile count, fewer channels
    }

    @ParameterizedTest(name = "n{0} c{1} k{2} {3}x{4} pad{5}")
    @MethodSource("shapes")
    void matchesTheReferenceConv(int n, int c, int k, int h, int w, int pad) {
        Rng rng = new Rng(31L * n + 7L * c + k + 1000L * h + w + 17L * pad);
        ConvSpec s = ConvSpec.of(c, k, 3, 1, pad);
        Tensor x = rng.uniform(Shape.of(n, c, h, w));
        Tensor wt = rng.uniform(Shape.of(k, c, 3, 3));
        Tensor bias = rng.uniform(Shape.of(k));
        Shape ys = Shape.of(n, k, s.outH(h), s.outW(w));
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                Tensor want = ConvReference.of(x, wt, withBias ? bias : null, s, relu);
                for (int threads : new int[] {1, 2}) {
                    for (String gemm : new String[] {"openblas", "java"}) {
                      for (int tile : new int[] {2, 4}) {
                        try (WorkerPool pool = new WorkerPool(threads)) {
                            CpuWinograd win = new CpuWinograd(pool, Gemm.select(gemm, threads));
                            Tensor y = rng.uniform(ys); // pre-filled: every element must be overwritten
                            win.forward(x, CpuWinograd.prepared(wt, s, win.packed(), tile), withBias ? bias : null, y, s,
                                    relu);
                            // Sums of 9·C products of O(1) terms, plus the transforms' roundings.
                            // The same bound for F(4x4, 3x3), whose transforms (entries up to 8, down to 1/24)
                            // round more: it holds on these O(1) inputs.
                            Close.assertClose(y, want, 2e-5 * Math.sqrt(9.0 * c), 1e-4, "winograd F("
                                    + tile + "x" + tile + ", 3x3) bias=" + withBias + " relu=" + relu + " threads="
                                    + threads + " gemm=" + gemm);
                        }
                      }
                    }
                }
            }
        }
    }

    @Test
    void transformedWeightsFollowTheFormula() {
        // One 3x3 kernel g with known values: U = G g Gᵀ, computed here in the matrix form.
        float[] g = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        double[][] gm = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
        float[] u = CpuWinograd.transformWeights(g, 0, 1, 1, 2);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                double want = 0;
                for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) want += gm[i][a] * g[a * 3 + b] * gm[j][b];
                assertEquals(want, u[4 * i + j], 1e-6, "U[" + i + "][" + j + "]");
            }
        }
    }

    @Test
    void fourByFourTransformedWeightsFollowTheFormula() {
        float[] g = {1, -2, 3, 0.5f, 5, -6, 7, 8, 0.25f};
        double[][] gm = {{0.25, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
                {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};
        float[] u = CpuWinograd.transformWeights(g, 0, 1, 1, 4);
        assertEquals(36, u.length);
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 6; j++) {
                double want = 0;
                for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) want += gm[i][a] * g[a * 3 + b] * gm[j][b];
                assertEquals(want, u[6 * i + j], 1e-6, "U[" + i + "][" + j + "]");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> CpuWinograd.transformWeights(g, 0, 1, 1, 3));
    }

    @Test
    void theTwoTileSizesAreCachedApart() {
        ConvSpec s = ConvSpec.of(4, 6, 3, 1, 1);
        Tensor w = new Rng(9).uniform(Shape.of(6, 4, 3, 3));
        Tensor two = CpuWinograd.prepared(w, s, false, 2), four = CpuWinograd.prepared(w, s, false, 4);
        assertEquals(Shape.of(16, 6, 4), two.shape());
        assertEquals(Shape.of(36, 6, 4), four.shape());
        assertSame(two, CpuWinograd.prepared(w, s, false, 2), "asking for F(4x4) must not evict F(2x2)");
        assertTrue(java.util.Arrays.equals(CpuWinograd.transformWeights(w.data(), 0, 6, 4, 4), four.toArray()));
    }

    @Test
    void preparedWeightsAreSharedButNeverStale() {
        ConvSpec s = ConvSpec.of(4, 6, 3, 1, 1);
        Tensor w = new Rng(5).uniform(Shape.of(6, 4, 3, 3));
        Tensor first = CpuWinograd.prepared(w, s, true, 2);
        assertSame(first, CpuWinograd.prepared(w, s, true, 2), "same array, same weights: one transform");
        Tensor plain = CpuWinograd.prepared(w, s, false, 2);
        assertTrue(java.util.Arrays.equals(CpuWinograd.transformWeights(w.data(), 0, 6, 4, 2), plain.toArray()),
                "the plain layout is U itself");
        w.set(7, w.get(7) + 1f);
        Tensor second = CpuWinograd.prepared(w, s, true, 2);
        assertNotSame(first, second, "changed weights must get a fresh transform");
        float[] fresh = CpuWinograd.pack(CpuWinograd.transformWeights(w.data(), 0, 6, 4, 2), 6, 4);
        assertTrue(java.util.Arrays.equals(fresh, second.toArray()), "the fresh transform is of the new weights");
    }

    @Test
    void onlyThreeByThreeStrideOneConvsAreEligible() {
        assertTrue(CpuWinograd.eligible(ConvSpec.of(8, 8, 3, 1, 1)));
        assertFalse(CpuWinograd.eligible(ConvSpec.of(8, 8, 3, 2, 1)), "stride 2");
        assertFalse(CpuWinograd.eligible(ConvSpec.of(8, 8, 5, 1, 2)), "5x5");
        assertFalse(CpuWinograd.eligible(ConvSpec.of(8, 8, 3, 1, 1).withGroups(2)), "groups");
        assertFalse(CpuWinograd.eligible(new ConvSpec(8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 1)), "dilation");
        try (WorkerPool pool = new WorkerPool(1)) {
            ConvSpec s2 = ConvSpec.of(2, 2, 3, 2, 1);
            assertThrows(IllegalArgumentException.class, () -> new CpuWinograd(pool, Gemm.select("java", 1)).forward(
                    Tensor.zeros(1, 2, 5, 5), Tensor.zeros(16, 2, 2), null, Tensor.zeros(1, 2, 3, 3), s2, false));
        }
    }

    /**
     * The per-call transform (training) against {@link CpuWinograd#transformWeights} (double, the reference): the
     * 8-row vector form ({@code transformPanels}, float; c = 11: five channel pairs and a scalar last one) where the
     * machine has 16-lane float vectors (else it must refuse), and {@link
     * CpuWinograd#transformInto} in both layouts; k = 13 leaves 3 padding rows in the last 8-row panel, which must be
     * zero even when the buffer held something before.
     */
    @ParameterizedTest(name = "tile {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2, 4})
    void perCallTransformMatchesTheReference(int m) {
        int k = 13, c = 11, a2 = (m + 2) * (m + 2), kp = 16;
        Tensor w = new Rng(40 + m).uniform(Shape.of(k, c, 3, 3));
        float[] u = CpuWinograd.transformWeights(w.data(), 0, k, c, m); // (a², k, c)
        float[] expected = new float[a2 * kp * c];
        for (int xi = 0; xi < a2; xi++) {
            for (int o = 0; o < k; o++) {
                for (int ch = 0; ch < c; ch++) expected[(xi * kp + o / 8 * 8) * c + ch * 8 + o % 8] = u[(xi * k + o) * c + ch];
            }
        }
        try (WorkerPool pool = new WorkerPool(2)) {
            float[] panels = new float[a2 * kp * c];
            java.util.Arrays.fill(panels, Float.NaN); // stale contents: every element must be written
            if (CpuWinograd.PANEL_PAIRS) { // 16-lane vectors (AVX-512): two channels of a panel per vector
                CpuWinograd.transformPanels(pool, w.data(), 0, k, c, m, panels);
                Close.assertClose(Tensor.of(Shape.of(expected.length), panels),
                        Tensor.of(Shape.of(expected.length), expected), 1e-6, 1e-5,
                        "8-row panels, F(" + m + "x" + m + ", 3x3)");
            } else {
                assertThrows(IllegalStateException.class,
                        () -> CpuWinograd.transformPanels(pool, w.data(), 0, k, c, m, panels));
            }
            for (boolean packed : new boolean[] {false, true}) {
                float[] ref = packed ? CpuWinograd.pack(u, k, c) : u;
                float[] out = new float[ref.length];
                java.util.Arrays.fill(out, Float.NaN);
                CpuWinograd.transformInto(pool, w.data(), 0, k, c, m, packed, out);
                Close.assertClose(Tensor.of(Shape.of(ref.length), out), Tensor.of(Shape.of(ref.length), ref), 1e-6, 1e-5,
                        "transformInto packed=" + packed + ", F(" + m + "x" + m + ", 3x3)");
            }
        }
    }

    /**
     * The turned transform (the input gradient's weights read in place: kernel (o, i) is kernel (i, o) of w rotated by
     * 180°) gives the bits of the plain transform of an explicitly turned copy, in the 8-row vector form (where it
     * exists: c = 11 channel pairs and a scalar last one, k = 13 with padding rows) and in both transformInto layouts.
     */
    @ParameterizedTest(name = "tile {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {2, 4})
    void turnedTransformMatchesATurnedCopy(int m) {
        int k = 13, c = 11, a2 = (m + 2) * (m + 2), kp = 16;
        Tensor w = new Rng(50 + m).uniform(Shape.of(c, k, 3, 3)); // the forward conv's: c outputs from k inputs
        float[] turned = new float[k * c * 9];
        for (int o = 0; o < k; o++) {
            for (int i = 0; i < c; i++) {
                for (int q = 0; q < 9; q++) turned[(o * c + i) * 9 + q] = w.data()[(i * k + o) * 9 + 8 - q];
            }
        }
        try (WorkerPool pool = new WorkerPool(2)) {
            for (boolean packed : new boolean[] {false, true}) {
                float[] fromCopy = new float[a2 * (packed ? kp : k) * c], inPlace = new float[fromCopy.length];
                java.util.Arrays.fill(inPlace, Float.NaN);
                CpuWinograd.transformInto(pool, turned, 0, k, c, m, packed, fromCopy);
                CpuWinograd.transformInto(pool, w.data(), 0, k, c, m, packed, inPlace, true);
                assertArrayEquals(fromCopy, inPlace, "transformInto packed=" + packed + ", F(" + m + "x" + m + ")");
            }
            if (CpuWinograd.PANEL_PAIRS) {
                float[] fromCopy = new float[a2 * kp * c], inPlace = new float[fromCopy.length];
                java.util.Arrays.fill(inPlace, Float.NaN);
                CpuWinograd.transformPanels(pool, turned, 0, k, c, m, fromCopy);
                CpuWinograd.transformPanels(pool, w.data(), 0, k, c, m, inPlace, true);
                assertArrayEquals(fromCopy, inPlace, "8-row panels, F(" + m + "x" + m + ")");
            }
        }
    }

    static Stream<Arguments> gradientShapes() {
        return Stream.of(
                // n, c, k, h, w, pad
                Arguments.of(1, 3, 4, 5, 5, 1),
                Arguments.of(2, 5, 7, 7, 6, 1),     // odd output height: the last tile row half outside dy
                Arguments.of(3, 8, 6, 9, 11, 0),    // odd sizes, no padding
                Arguments.of(1, 4, 5, 6, 7, 2),
                Arguments.of(2, 17, 19, 28, 28, 1), // channels past a vector, k past a tile
                Arguments.of(1, 20, 13, 3, 3, 0),   // a single output
                Arguments.of(3, 16, 24, 40, 39, 1)); // 5 chunks of tile rows (the first overwrites the sums)
    }

    /**
     * The weight gradient, F(3x3, 2x2) and F(3x3, 4x4), against the double reference: dw starts random and must be
     * added to; one to four threads (split by the transforms' rows: 4, 2 + 2, 1 + 1 + 2, 1 + 1 + 1 + 1 of F(3x3,
     * 2x2)'s; or each chunk's transforms by channels, then the products by ξ); both product GEMMs; each instance
     * first runs a larger conv on NaN inputs, so stale scratch (NaN sums) must never leak in. The two thread splits
     * run the same products: the same bits.
     */
    @ParameterizedTest(name = "n{0} c{1} k{2} {3}x{4} pad{5}")
    @MethodSource("gradientShapes")
    void weightGradientMatchesTheReference(int n, int c, int k, int h, int w, int pad) {
        Rng rng = new Rng(131L * n + 17L * c + k + 1000L * h + w + 7L * pad);
        ConvSpec s = ConvSpec.of(c, k, 3, 1, pad);
        Tensor x = rng.uniform(Shape.of(n, c, h, w));
        Tensor dy = rng.uniform(Shape.of(n, k, s.outH(h), s.outW(w)));
        Tensor start = rng.uniform(Shape.of(k, c, 3, 3));
        Tensor want = start.copy();
        ReferenceConv.conv2dBackward(x, rng.uniform(Shape.of(k, c, 3, 3)), dy, null, want, null, s);
        ConvSpec decoy = ConvSpec.of(40, 24, 3, 1, 1);
        Tensor nanX = Tensor.zeros(Shape.of(1, 40, 30, 30)), nanDy = Tensor.zeros(Shape.of(1, 24, 30, 30));
        java.util.Arrays.fill(nanX.data(), Float.NaN);
        boolean was = CpuWinograd.SHARED_TRANSFORMS;
        try {
            for (int tile : new int[] {2, 4}) {
                for (int threads = 1; threads <= 4; threads++) {
                    for (String gemm : new String[] {"openblas", "java"}) {
                        float[][] got = new float[2][];
                        for (int shared = 0; shared < 2; shared++) {
                            CpuWinograd.SHARED_TRANSFORMS = shared == 1;
                            try (WorkerPool pool = new WorkerPool(threads)) {
                                CpuWinograd win = new CpuWinograd(pool, Gemm.select(gemm, threads));
                                win.weightGradient(nanX, nanDy, Tensor.zeros(Shape.of(24, 40, 3, 3)), decoy, tile);
                                Tensor dw = start.copy();
                                win.weightGradient(x, dy, dw, s, tile);
                                // Sums of N·OH·OW products of O(1) terms, through transforms with entries ±1 and ½
                                // (F(3x3, 2x2)), or up to 8 and 1/24 (F(3x3, 4x4): ~6x the rounding, measured).
                                double atol = (tile == 2 ? 2e-5 : 6e-5) * Math.sqrt((double) n * s.outH(h) * s.outW(w));
                                Close.assertClose(dw, want, atol, 1e-4, "winograd weight gradient F(3x3, " + tile
                                        + "x" + tile + ") threads=" + threads + " gemm=" + gemm + " shared=" + shared);
                                got[shared] = dw.toArray();
                            }
                        }
                        for (int i = 0; i < got[0].length; i++) {
                            assertEquals(Float.floatToRawIntBits(got[0][i]), Float.floatToRawIntBits(got[1][i]),
                                    "F(3x3, " + tile + "x" + tile + ") threads=" + threads + " gemm=" + gemm
                                            + ": dw at " + i + " split by rows " + got[0][i] + ", shared "
                                            + got[1][i]);
                        }
                    }
                }
            }
        } finally {
            CpuWinograd.SHARED_TRANSFORMS = was;
        }
    }

    /**
     * x, dy and dw as views at element offsets into larger arrays (a concat's channel slice at batch 1 is such a view):
     * both tile sizes and both thread splits give the bits of the same tensors at offset 0, and leave every element
     * outside the views alone.
     */
    @ParameterizedTest(name = "F({0}), shared {1}")
    @CsvSource({"2, false", "2, true", "4, false", "4, true"})
    void weightGradientReadsAndWritesViewsAtOffsets(int tile, boolean shared) {
        Rng rng = new Rng(77L + tile);
        ConvSpec s = ConvSpec.of(12, 9, 3, 1, 1);
        Shape xs = Shape.of(2, 12, 13, 15), ys = Shape.of(2, 9, 13, 15), ws = Shape.of(9, 12, 3, 3);
        Tensor x = rng.uniform(xs), dy = rng.uniform(ys), start = rng.uniform(ws);
        Tensor xv = view(x, 5, rng), dyv = view(dy, 11, rng), dwv = view(start, 3, rng);
        float[] around = dwv.data().clone();
        boolean was = CpuWinograd.SHARED_TRANSFORMS;
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuWinograd.SHARED_TRANSFORMS = shared;
            CpuWinograd win = new CpuWinograd(pool, Gemm.select("java", 2));
            Tensor dw = start.copy();
            win.weightGradient(x, dy, dw, s, tile);
            win.weightGradient(xv, dyv, dwv, s, tile);
            for (int i = 0; i < dw.size(); i++) {
                assertEquals(Float.floatToRawIntBits(dw.data()[i]), Float.floatToRawIntBits(dwv.data()[3 + i]),
                        "dw at " + i + ": offset 0 " + dw.data()[i] + ", view " + dwv.data()[3 + i]);
            }
            for (int i = 0; i < around.length; i++) {
                if (i < 3 || i >= 3 + dw.size()) assertEquals(around[i], dwv.data()[i], "outside the dw view at " + i);
            }
        } finally {
            CpuWinograd.SHARED_TRANSFORMS = was;
        }
    }

    /** t's elements at offset {@code at} of a random array with 7 more elements after them. */
    private static Tensor view(Tensor t, int at, Rng rng) {
        float[] a = rng.uniform(Shape.of(at + t.size() + 7)).data();
        System.arraycopy(t.data(), 0, a, at, t.size());
        return new Tensor(t.shape(), new netslim.tensor.HostStorage(a), at);
    }

    @Test
    void weightGradientRefusesWhatItCannotCompute() {
        try (WorkerPool pool = new WorkerPool(1)) {
            CpuWinograd win = new CpuWinograd(pool, Gemm.select("java", 1));
            ConvSpec strided = ConvSpec.of(4, 4, 3, 2, 1);
            assertThrows(IllegalArgumentException.class, () -> win.weightGradient(Tensor.zeros(1, 4, 8, 8),
                    Tensor.zeros(1, 4, 4, 4), Tensor.zeros(4, 4, 3, 3), strided));
            ConvSpec s = ConvSpec.of(4, 6, 3, 1, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> win.weightGradient(
                    Tensor.zeros(1, 4, 8, 8), Tensor.zeros(1, 6, 7, 8), Tensor.zeros(6, 4, 3, 3), s));
            assertTrue(e.getMessage().contains("dy"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> win.weightGradient(Tensor.zeros(1, 4, 8, 8),
                    Tensor.zeros(1, 6, 8, 8), Tensor.zeros(6, 4, 3, 3), s, 3));
            assertTrue(e.getMessage().contains("tile 3"), e.getMessage());
        }
    }

    /**
     * The input gradient added into dx in the output transform ({@link CpuBackend#WINOGRAD_DX_ADDS}) gives the bits of
     * the scratch tensor added afterwards, dx starting random: both tile sizes, padding 0–2, odd widths (pairs past
     * the last whole vector, a last odd column); and it differs from the GEMM + col2im path only by rounding.
     */
    @ParameterizedTest(name = "n{0} c{1} k{2} {3}x{4} pad{5}, F({6})")
    @CsvSource({"1, 32, 48, 57, 61, 1, 4", "1, 32, 40, 60, 58, 0, 4", "6, 16, 20, 14, 15, 1, 2",
                "4, 24, 17, 17, 19, 2, 2", "2, 20, 16, 33, 31, 1, 2"})
    void inputGradientAddedInPlaceGivesTheScratchBits(int n, int c, int k, int h, int w, int pad, int tile) {
        Rng rng = new Rng(31L * n + c + 100L * k + h + w + pad);
        ConvSpec s = ConvSpec.of(c, k, 3, 1, pad);
        Tensor x = rng.uniform(Shape.of(n, c, h, w)), wt = rng.uniform(Shape.of(k, c, 3, 3));
        Tensor dy = rng.uniform(Shape.of(n, k, s.outH(h), s.outW(w))), start = rng.uniform(x.shape());
        assertEquals(tile, CpuBackend.inputGradientTile(s, dy.shape()), "the input gradient's Winograd tile");
        boolean was = CpuBackend.WINOGRAD_DX_ADDS;
        float[][] dx = new float[2][];
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (int v = 0; v < 2; v++) {
                CpuBackend.WINOGRAD_DX_ADDS = v == 1;
                Tensor d = start.copy();
                cpu.conv2dBackward(x, wt, dy, d, null, null, s);
                dx[v] = d.toArray();
            }
        } finally {
            CpuBackend.WINOGRAD_DX_ADDS = was;
        }
        for (int i = 0; i < dx[0].length; i++) {
            assertEquals(Float.floatToRawIntBits(dx[0][i]), Float.floatToRawIntBits(dx[1][i]),
                    "dx at " + i + ": scratch then added " + dx[0][i] + ", added in place " + dx[1][i]);
        }
        Tensor want = start.copy();
        ReferenceConv.conv2dBackward(x, wt, dy, want, null, null, s);
        Close.assertClose(dx[1], want.toArray(), 1e-4, 1e-4, "dx added in place against the reference");
    }

    /** The training rule: 3x3 stride 1, maps at least 14 wide, at least 256 tiles of dy; the flag turns it off. */
    @Test
    void weightGradientRuleFollowsTheMeasuredShapes() {
        ConvSpec s = ConvSpec.of(160, 320, 3, 1, 1);
        assertTrue(rule(8, s, 14), "14x14 at batch 8: 392 tiles");
        assertFalse(rule(2, s, 14), "14x14 at batch 2: 98 tiles");
        assertFalse(rule(32, s, 7), "7x7: a row of 4 tiles");
        assertTrue(rule(2, ConvSpec.of(96, 128, 3, 1, 1), 28), "28x28 at batch 2: 392 tiles");
        assertFalse(rule(1, ConvSpec.of(96, 128, 3, 1, 1), 28), "28x28 at batch 1: 196 tiles");
        assertTrue(rule(1, ConvSpec.of(64, 192, 3, 1, 1), 56), "56x56 at batch 1: 784 tiles");
        assertFalse(rule(8, ConvSpec.of(64, 64, 3, 2, 1), 56), "stride 2");
        assertFalse(rule(8, ConvSpec.of(64, 64, 1, 1, 0), 56), "1x1");
        assertFalse(rule(8, ConvSpec.of(8, 64, 3, 1, 1), 56), "8 channels in");
        boolean was = CpuBackend.WINOGRAD_DW;
        try {
            CpuBackend.WINOGRAD_DW = false;
            assertFalse(rule(8, ConvSpec.of(64, 192, 3, 1, 1), 56), "-Dnetslim.conv.winogradWeightGradient=false");
        } finally {
            CpuBackend.WINOGRAD_DW = was;
        }
    }

    /**
     * The weight gradient's tile rule: F(3x3, 4x4) from 28 wide with at least 64 channels in and 196 tiles of 4x4;
     * the flag forces either.
     */
    @Test
    void weightGradientTileFollowsTheMeasuredShapes() {
        assertEquals(4, tile(8, ConvSpec.of(64, 192, 3, 1, 1), 56), "56x56 at batch 8");
        assertEquals(4, tile(1, ConvSpec.of(64, 192, 3, 1, 1), 56), "56x56 at batch 1: 196 tiles of 4x4");
        assertEquals(4, tile(8, ConvSpec.of(128, 192, 3, 1, 1), 28), "28x28, 128 in");
        assertEquals(4, tile(8, ConvSpec.of(96, 128, 3, 1, 1), 28), "28x28, 96 in");
        assertEquals(2, tile(8, ConvSpec.of(32, 96, 3, 1, 1), 28), "28x28, 32 in");
        assertEquals(2, tile(1, ConvSpec.of(128, 192, 3, 1, 1), 28), "28x28 at batch 1: 49 tiles");
        assertEquals(2, tile(8, ConvSpec.of(160, 320, 3, 1, 1), 14), "14x14");
        assertEquals(2, tile(8, ConvSpec.of(96, 208, 3, 1, 1), 16), "16x16");
        int was = CpuBackend.WEIGHT_GRADIENT_TILE;
        try {
            CpuBackend.WEIGHT_GRADIENT_TILE = CpuBackend.parseWeightGradientTile("2");
            assertEquals(2, tile(8, ConvSpec.of(64, 192, 3, 1, 1), 56), "forced 2");
            CpuBackend.WEIGHT_GRADIENT_TILE = CpuBackend.parseWeightGradientTile("4");
            assertEquals(4, tile(8, ConvSpec.of(160, 320, 3, 1, 1), 14), "forced 4");
        } finally {
            CpuBackend.WEIGHT_GRADIENT_TILE = was;
        }
        assertEquals(0, CpuBackend.parseWeightGradientTile("auto"));
        netslim.NetslimException e = assertThrows(netslim.NetslimException.class,
                () -> CpuBackend.parseWeightGradientTile("3"));
        assertTrue(e.getMessage().contains("winogradWeightGradientTile") && e.getMessage().contains("'3'"),
                e.getMessage());
    }

    private static int tile(int n, ConvSpec s, int hw) {
        return CpuBackend.weightGradientTile(s, Shape.of(n, s.outChannels(), s.outH(hw), s.outW(hw)));
    }

    private static boolean rule(int n, ConvSpec s, int hw) {
        Shape xs = Shape.of(n, s.inChannels(), hw, hw);
        Shape ys = Shape.of(n, s.outChannels(), s.outH(hw), s.outW(hw));
        return CpuBackend.winogradWeightGradient(Tensor.zeros(xs), Tensor.zeros(ys), s);
    }

    /**
     * Rows of at most 16 column pairs split with two loads straight from x and lane masks ({@code EvenOdd.splitWindow}) give
     * the bits of the element-by-element split: the forward (both tile sizes) and the weight gradient, flag on and
     * off, on sizes with padding 0–2, odd widths and the first and last rows of the array (which take the old path).
     */
    @ParameterizedTest(name = "n{0} c{1} k{2} {3}x{4} pad{5}")
    @MethodSource("gradientShapes")
    void shortRowsSplitAsTheElementwiseLoop(int n, int c, int k, int h, int w, int pad) {
        Rng rng = new Rng(7L * n + c + 100L * k + h + w + pad);
        ConvSpec s = ConvSpec.of(c, k, 3, 1, pad);
        Tensor x = rng.uniform(Shape.of(n, c, h, w)), wt = rng.uniform(Shape.of(k, c, 3, 3));
        Tensor dy = rng.uniform(Shape.of(n, k, s.outH(h), s.outW(w)));
        boolean was = CpuWinograd.SHORT_ROWS;
        try (WorkerPool pool = new WorkerPool(2)) {
            CpuWinograd win = new CpuWinograd(pool, Gemm.select("java", 2));
            float[][][] out = new float[2][][];
            for (int v = 0; v < 2; v++) {
                CpuWinograd.SHORT_ROWS = v == 1;
                Tensor y2 = Tensor.zeros(Shape.of(n, k, s.outH(h), s.outW(w))), y4 = Tensor.zeros(y2.shape());
                win.forward(x, CpuWinograd.prepared(wt, s, win.packed(), 2), null, y2, s, false);
                win.forward(x, CpuWinograd.prepared(wt, s, win.packed(), 4), null, y4, s, false);
                Tensor dw = Tensor.zeros(wt.shape());
                win.weightGradient(x, dy, dw, s);
                out[v] = new float[][] {y2.toArray(), y4.toArray(), dw.toArray()};
            }
            String[] what = {"F(2x2) y", "F(4x4) y", "dw"};
            for (int q = 0; q < what.length; q++) {
                for (int i = 0; i < out[0][q].length; i++) {
                    assertEquals(Float.floatToRawIntBits(out[0][q][i]), Float.floatToRawIntBits(out[1][q][i]),
                            what[q] + " at " + i + ": element by element " + out[0][q][i] + ", short rows "
                                    + out[1][q][i]);
                }
            }
        } finally {
            CpuWinograd.SHORT_ROWS = was;
        }
    }
}
