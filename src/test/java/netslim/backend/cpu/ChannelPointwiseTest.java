package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
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
 * The small-map pointwise conv with vectors across output channels (3 groups of 16 outputs x 7 pixels, results
 * scattered to NCHW) against the double-accumulating reference conv on seeded random inputs, on every machine (the
 * kernel is called directly; the backend picks it only with 16-lane vectors): 48-output tiles and the 16-output
 * tiles of a member's last one or two groups, maps of one to seven 7-pixel tiles, cin 1 to 832, batch 1 (tiles
 * split over items) and several images, with and without bias and ReLU, y pre-filled with NaN so every element must
 * be written; channel slices of a bigger buffer leave the rest untouched.
 */
class ChannelPointwiseTest {

    private static final int V = FloatVector.SPECIES_PREFERRED.length();

    static Stream<Arguments> shapes() {
        return Stream.of(
                // n, cin, cout (in units of 16), h, w
                Arguments.of(1, 832, 8, 7, 7),   // inception5's 128-output pool projection: 48 + 48 + 16 + 16
                Arguments.of(2, 64, 3, 7, 7),    // one 48-output run, two images
                Arguments.of(1, 1, 1, 1, 7),     // one input channel, one tile, one group
                Arguments.of(3, 37, 5, 2, 7),    // 48 + 16 + 16, two tiles per image
                Arguments.of(1, 300, 2, 7, 1),   // a column map of one tile, two single groups
                Arguments.of(4, 9, 4, 3, 7));    // 48 + 16, three tiles, four images
    }

    @ParameterizedTest(name = "n{0} cin{1} cout{2}x16 {3}x{4}")
    @MethodSource("shapes")
    void matchesTheReferenceConv(int n, int cin, int groups, int h, int w) {
        int cout = groups * V;
        Rng rng = new Rng(1013L * n + 37L * cin + cout + 11L * h + w);
        ConvSpec s = ConvSpec.of(cin, cout, 1, 1, 0);
        Tensor x = rng.uniform(Shape.of(n, cin, h, w));
        Tensor wt = rng.uniform(Shape.of(cout, cin, 1, 1));
        Tensor bias = rng.uniform(Shape.of(cout));
        Tensor packed = ChannelPointwise.prepared(wt, s);
        for (boolean withBias : new boolean[] {false, true}) {
            for (boolean relu : new boolean[] {false, true}) {
                Tensor want = ConvReference.of(x, wt, withBias ? bias : null, s, relu);
                for (int threads : new int[] {1, 2}) {
                    try (WorkerPool pool = new WorkerPool(threads)) {
                        Tensor y = Tensor.zeros(Shape.of(n, cout, h, w));
                        java.util.Arrays.fill(y.data(), Float.NaN);
                        ChannelPointwise.forward(pool, x, packed, withBias ? bias : null, y, 0, s, relu);
                        Close.assertClose(y, want, 2e-6 * Math.sqrt(cin), 1e-5,
                                "channel pointwise bias=" + withBias + " relu=" + relu + " threads=" + threads);
                    }
                }
            }
        }
    }

    /** Members of 64, 32 and 48 outputs: two into one buffer at channels 16 and 120, one into its own tensor. */
    @Test
    void splitMembersWriteTheirSlicesAndNothingElse() {
        Rng rng = new Rng(29);
        int n = 2, cin = 70, h = 7, w = 7;
        int[] couts = {4 * V, 2 * V, 3 * V};
        int cout = 9 * V;
        ConvSpec stacked = ConvSpec.of(cin, cout, 1, 1, 0);
        Tensor x = rng.uniform(Shape.of(n, cin, h, w)), wt = rng.uniform(Shape.of(cout, cin, 1, 1));
        Tensor bias = rng.uniform(Shape.of(cout));
        Tensor packed = ChannelPointwise.prepared(wt, stacked);
        int channels = 8 * V + 3 * V + 4, c0a = V, c0c = 5 * V + 4 + 2 * V;
        Tensor buffer = rng.uniform(Shape.of(n, channels, h, w)), before = buffer.copy();
        Tensor second = Tensor.zeros(Shape.of(n, couts[1], h, w));
        java.util.Arrays.fill(second.data(), Float.NaN);
        try (WorkerPool pool = new WorkerPool(2)) {
            ChannelPointwise.forwardSplit(pool, x, packed, bias, new Tensor[] {buffer, second, buffer},
                    new int[] {c0a, 0, c0c}, couts, stacked, true);
        }
        Tensor expected = before.copy();
        int[] c0s = {c0a, -1, c0c};
        for (int m = 0, r = 0; m < couts.length; r += couts[m], m++) {
            ConvSpec own = ConvSpec.of(cin, couts[m], 1, 1, 0);
            Tensor wm = Tensor.zeros(Shape.of(couts[m], cin, 1, 1)), bm = Tensor.zeros(Shape.of(couts[m]));
            System.arraycopy(wt.data(), r * cin, wm.data(), 0, couts[m] * cin);
            System.arraycopy(bias.data(), r, bm.data(), 0, couts[m]);
            Tensor want = ConvReference.of(x, wm, bm, own, true);
            if (m == 1) {
                Close.assertClose(second, want, 2e-6 * Math.sqrt(cin), 1e-5, "member 1 in its own tensor");
                continue;
            }
            Tensor got = Tensor.zeros(want.shape());
            int plane = h * w;
            for (int i = 0; i < n; i++) {
                System.arraycopy(buffer.data(), (i * channels + c0s[m]) * plane, got.data(), i * couts[m] * plane,
                        couts[m] * plane);
                System.arraycopy(buffer.data(), (i * channels + c0s[m]) * plane, expected.data(),
                        (i * channels + c0s[m]) * plane, couts[m] * plane);
            }
            Close.assertClose(got, want, 2e-6 * Math.sqrt(cin), 1e-5, "member " + m + " at channel " + c0s[m]);
        }
        assertArrayEquals(expected.toArray(), buffer.toArray(), "channels outside the members' slices moved");
    }

    /**
     * The backend's choice: a 7x7 map with a multiple of 16 outputs takes this kernel where vectors have 16 lanes
     * (AVX-512), and its prepared convs, slices and splits give the kernel's floats; other maps and counts do not.
     */
    @Test
    void theBackendPicksItForSmallMapsOnly() {
        ConvSpec s = ConvSpec.of(40, 3 * V, 1, 1, 0);
        Shape small = Shape.of(2, 40, 7, 7);
        boolean here = V == 16;
        assertEquals(here, ChannelPointwise.takes(s, small));
        assertFalse(ChannelPointwise.takes(s, Shape.of(2, 40, 8, 8)), "64 pixels are not whole 7-pixel tiles");
        assertFalse(ChannelPointwise.takes(s, Shape.of(2, 40, 14, 14)), "a 14x14 map fills the NCHW tile");
        assertFalse(ChannelPointwise.takes(ConvSpec.of(40, 40, 1, 1, 0), small), "40 outputs: not groups of 16");
        assertFalse(ChannelPointwise.takes(ConvSpec.of(40, 48, 3, 1, 1), small), "not pointwise");
        assertFalse(ChannelPointwise.splits(ConvSpec.of(40, 48, 1, 1, 0), new int[] {24, 24}, small));
        assertEquals(here, ChannelPointwise.splits(ConvSpec.of(40, 48, 1, 1, 0), new int[] {32, 16}, small));
        Rng rng = new Rng(3);
        Tensor x = rng.uniform(small), wt = rng.uniform(Shape.of(3 * V, 40, 1, 1)), bias = rng.uniform(Shape.of(3 * V));
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2)); WorkerPool pool = new WorkerPool(1)) {
            Tensor prepared = cpu.prepareConvWeights(wt, s, small);
            assertEquals(here, ChannelPointwise.isPacked(prepared, s));
            Tensor viaBackend = Tensor.zeros(2, 3 * V, 7, 7), direct = Tensor.zeros(2, 3 * V, 7, 7);
            cpu.conv2dPrepared(x, prepared, bias, viaBackend, s, true);
            Close.assertClose(viaBackend, ConvReference.of(x, wt, bias, s, true), 2e-6 * Math.sqrt(40), 1e-5,
                    "backend's prepared 7x7 pointwise conv");
            if (here) {
                ChannelPointwise.forward(pool, x, ChannelPointwise.prepared(wt, s), bias, direct, 0, s, true);
                assertArrayEquals(direct.toArray(), viaBackend.toArray(), "the backend ran another kernel");
                Tensor buffer = rng.uniform(Shape.of(2, 5 * V, 7, 7));
                cpu.conv2dPreparedSlice(x, prepared, bias, buffer, V, s, true);
                for (int i = 0; i < 2; i++) {
                    for (int c = 0; c < 3 * V; c++) {
                        for (int p = 0; p < 49; p++) {
                            assertEquals(direct.data()[(i * 3 * V + c) * 49 + p],
                                    buffer.data()[(i * 5 * V + V + c) * 49 + p], "slice channel " + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void badShapesAreNamed() {
        ConvSpec s = ConvSpec.of(8, 2 * V, 1, 1, 0);
        Tensor packed = ChannelPointwise.prepared(Tensor.zeros(Shape.of(2 * V, 8, 1, 1)), s);
        try (WorkerPool pool = new WorkerPool(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ChannelPointwise.forward(pool,
                    Tensor.zeros(Shape.of(1, 8, 8, 8)), packed, null, Tensor.zeros(Shape.of(1, 2 * V, 8, 8)), 0, s,
                    false));
            assertTrue(e.getMessage().contains("7-pixel tiles"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ChannelPointwise.forwardSplit(pool,
                    Tensor.zeros(Shape.of(1, 8, 7, 7)), packed, null,
                    new Tensor[] {Tensor.zeros(Shape.of(1, V + 8, 7, 7)), Tensor.zeros(Shape.of(1, V - 8, 7, 7))},
                    new int[] {0, 0}, new int[] {V + 8, V - 8}, s, false));
            assertTrue(e.getMessage().contains("multiples of " + V), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> ChannelPointwise.forward(pool,
                    Tensor.zeros(Shape.of(1, 8, 7, 7)), packed, null, Tensor.zeros(Shape.of(1, 2 * V, 7, 7)), 1, s,
                    false));
            assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ChannelPointwise.prepared(
                Tensor.zeros(Shape.of(V + 1, 8, 1, 1)), ConvSpec.of(8, V + 1, 1, 1, 0)));
    }
}
