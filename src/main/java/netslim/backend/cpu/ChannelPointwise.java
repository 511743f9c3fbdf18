package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The serving plan's pointwise conv on small maps (7x7, GoogLeNet's last stage) with the vectors across output
 * channels: a tile is 3 vectors of output channels (48 with 16-lane vectors) x 7 pixels, 21 accumulators; per input
 * channel it loads the 3 weight vectors and broadcasts the tile's 7 pixels of x's row, so it multiplies 21 vectors
 * per 10 loads (the NCHW 8 x 32 tile of {@link DirectPointwise}: 16 per 10) and a 7x7 map is 7 whole tiles (the 8 x
 * 32 tile covers 49 pixels with a 32-column panel and a 17-column one, copied through a buffer). The finished tile
 * (bias, ReLU) goes to y's NCHW layout through a small buffer, a channel's pixels hw apart.
 *
 * <p>w is packed once (cached per weight array, as {@link DirectPointwise#prepared}): groups of 16 output channels,
 * group g's input channel k at (g·cin + k)·16, shape (cout / 16, cin, 16). Only with 16-lane vectors (AVX-512), output
 * counts that are multiples of 16 (each member's, for sibling convs run as one) and maps of whole 7-pixel tiles of
 * at most {@link #MAX_PIXELS}; {@code -Dnetslim.conv.channelPointwise=false} turns it off. Session 11, GoogLeNet's
 * 832 → 624 7x7 product on one core: 64 GMAC/s (70 % of this machine's FMA peak) against about 40 per core for the
 * 8 x 32 tile in the model; in the model at batch 8 inception5's 1x1s took about 0.4 ms less per pass, the whole
 * pass within noise of before (bench/RESULTS.md). Reference: {@link ReferenceConv} (ChannelPointwiseTest).
 */
final class ChannelPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Pixels per tile. */
    static final int P = 7;
    /** Largest map (pixels) this kernel takes: 7x7 (larger maps fill the NCHW tile's panels). */
    static final int MAX_PIXELS = 64;

    /** Not final: probes flip it between building two plans. */
    static boolean ENABLED = !"false".equals(System.getProperty("netslim.conv.channelPointwise"));

    private ChannelPointwise() {
    }

    private static boolean available() {
        return ENABLED && V == 16;
    }

    /** Whether the serving plan runs pointwise conv s on input shape x here (see the class comment). */
    static boolean takes(ConvSpec s, Shape x) {
        return available() && s.isPointwise() && s.outChannels() % V == 0 && x.rank() == 4 && fitsMap(x.h() * x.w());
    }

    private static boolean fitsMap(int hw) {
        return hw % P == 0 && hw <= MAX_PIXELS;
    }

    /** Whether sibling pointwise convs with these output counts, stacked as {@code stacked}, run here as one. */
    static boolean splits(ConvSpec stacked, int[] couts, Shape x) {
        return available() && stacked.isPointwise() && x.rank() == 4 && fitsMap(x.h() * x.w())
                && DirectPointwise.stacks(couts, V, stacked);
    }

    /** Whether prepared is this class's packing for conv s (not {@link DirectPointwise}'s 8-row panels). */
    static boolean isPacked(Tensor prepared, ConvSpec s) {
        var ps = prepared.shape();
        return available() && s.isPointwise() && ps.rank() == 3 && ps.dim(2) == V && ps.dim(0) * V == s.outChannels()
                && ps.dim(1) == s.inChannels();
    }

    /** w (cout, cin, 1, 1) packed as the class comment says, shape (cout / 16, cin, 16); cached per weight array. */
    static Tensor prepared(Tensor w, ConvSpec s) {
        if (!s.isPointwise() || s.outChannels() % V != 0) {
            throw new IllegalArgumentException("prepareConvWeights: not a pointwise conv with a multiple of " + V
                    + " outputs: " + s);
        }
        int cout = s.outChannels(), cin = s.inChannels(), size = cout * cin;
        if (w.size() != size) {
            ShapeChecks.fail("prepareConvWeights", "w " + w.shape() + " does not match " + s);
        }
        return DirectPointwise.cached(CACHE, w, size, (wd, wo) -> pack(wd, wo, cout, cin));
    }

    private static Tensor pack(float[] wd, int wo, int cout, int cin) {
        float[] p = new float[cout * cin];
        for (int co = 0; co < cout; co++) {
            int g = co / V, lane = co % V;
            for (int k = 0; k < cin; k++) p[(g * cin + k) * V + lane] = wd[wo + co * cin + k];
        }
        return Tensor.of(Shape.of(cout / V, cin, V), p);
    }

    private static final netslim.tensor.DerivedCache<DirectPointwise.Packed> CACHE =
            new netslim.tensor.DerivedCache<>();

    /**
     * y's channels [c0, c0 + cout) (y (N, C, H, W); c0 = 0 and C = cout for a conv's own tensor) = conv(x, w) + bias,
     * then ReLU when asked; {@code packed} from {@link #prepared}.
     */
    static void forward(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor y, int c0, ConvSpec s,
                        boolean relu) {
        forwardSplit(pool, x, packed, bias, new Tensor[] {y}, new int[] {c0}, new int[] {s.outChannels()}, s, relu);
    }

    /**
     * Sibling pointwise convs as one product: member i's couts[i] outputs (rows r_i.. of the stacked weights) into
     * channels [c0s[i], c0s[i] + couts[i]) of ys[i]. Each tile's x pixels are read once per 48 outputs.
     */
    static void forwardSplit(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor[] ys, int[] c0s,
                             int[] couts, ConvSpec s, boolean relu) {
        String op = "conv2dPreparedSplit";
        if (!s.isPointwise()) throw new IllegalArgumentException(op + ": not a pointwise conv: " + s);
        ShapeChecks.requireRank(x, 4, op, "x");
        Shape xs = x.shape();
        int cin = s.inChannels(), cout = s.outChannels(), hw = xs.h() * xs.w();
        if (xs.c() != cin) ShapeChecks.fail(op, "x " + xs + " does not match " + s);
        if (!fitsMap(hw)) {
            ShapeChecks.fail(op, "x " + xs + ": maps of whole " + P + "-pixel tiles up to " + MAX_PIXELS
                    + " pixels only");
        }
        ShapeChecks.requireShape(packed, op, "packed w", cout / V, cin, V);
        if (bias != null) ShapeChecks.requireShape(bias, op, "bias", cout);
        DirectPointwise.requireMembers(op, ys, c0s, couts, V, cout, xs);
        // runs of up to 3 groups of 16 outputs, none spanning two members: (member, first group, its channel in the
        // member's tensor, groups)
        int groups = cout / V, sum = 0;
        int[] runMember = new int[groups], runGroup = new int[groups], runChannel = new int[groups];
        int[] runSize = new int[groups];
        int runs = 0;
        for (int m = 0; m < ys.length; m++) {
            int c = couts[m];
            for (int g = sum / V; g < (sum + c) / V; g += 3) {
                runMember[runs] = m;
                runGroup[runs] = g;
                runChannel[runs] = c0s[m] + g * V - sum;
                runSize[runs++] = Math.min(3, (sum + c) / V - g);
            }
            sum += c;
        }
        int images = xs.n(), tiles = hw / P, nRuns = runs;
        // enough items for every thread (4 per thread, as parallelFor's chunks): split the pixel tiles only then
        int want = 4 * pool.threads(), split = Math.max(1, Math.min(tiles, (want + images * runs - 1) / (images * runs)));
        int perSplit = (tiles + split - 1) / split;
        int splits = (tiles + perSplit - 1) / perSplit, items = images * runs * splits;
        float[] xd = x.data(), pd = packed.data(), bd = bias == null ? null : bias.data();
        int xo = x.offset(), po = packed.offset(), bo = bias == null ? 0 : bias.offset();
        pool.parallelFor(items, 1, (i0, i1) -> {
            float[] buf = BUFFER.get();
            for (int it = i0; it < i1; it++) {
                int q = it / splits, t0 = (it % splits) * perSplit, t1 = Math.min(tiles, t0 + perSplit);
                int n = q / nRuns, r = q % nRuns, m = runMember[r], g = runGroup[r];
                Tensor y = ys[m];
                int yBase = y.offset() + (n * y.shape().c() + runChannel[r]) * hw;
                int xBase = xo + n * cin * hw;
                for (int t = t0; t < t1; t++) {
                    int p0 = t * P;
                    if (runSize[r] == 3) {
                        tile3(cin, pd, po + g * cin * V, xd, xBase + p0, hw, bd, bo + g * V, relu, y.data(),
                                yBase + p0, hw, buf);
                    } else {
                        for (int k = 0; k < runSize[r]; k++) {
                            tile1(cin, pd, po + (g + k) * cin * V, xd, xBase + p0, hw, bd, bo + (g + k) * V, relu,
                                    y.data(), yBase + k * V * hw + p0, hw, buf);
                        }
                    }
                }
            }
        });
    }

    /** Per thread: a finished tile's sums (3 x 7 vectors). */
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[3 * P * V]);

    /**
     * 48 outputs (3 groups of 16, packed at wo, wo + cin·16, wo + 2·cin·16) x 7 pixels (x at xo, rows ldx apart):
     * y[yo + c·hw + j] for channel c, pixel j.
     */
    private static void tile3(int cin, float[] w, int wo, float[] x, int xo, int ldx, float[] bias, int bo,
                              boolean relu, float[] y, int yo, int hw, float[] buf) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a50 = a00, a51 = a00, a52 = a00;
        FloatVector a60 = a00, a61 = a00, a62 = a00;
        int g1 = cin * V, g2 = 2 * cin * V;
        for (int k = 0, xk = xo, wk = wo; k < cin; k++, xk += ldx, wk += V) {
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            FloatVector w1 = FloatVector.fromArray(S, w, wk + g1);
            FloatVector w2 = FloatVector.fromArray(S, w, wk + g2);
            FloatVector b = FloatVector.broadcast(S, x[xk]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            b = FloatVector.broadcast(S, x[xk + 1]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            b = FloatVector.broadcast(S, x[xk + 2]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
            b = FloatVector.broadcast(S, x[xk + 3]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            a32 = w2.fma(b, a32);
            b = FloatVector.broadcast(S, x[xk + 4]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            a42 = w2.fma(b, a42);
            b = FloatVector.broadcast(S, x[xk + 5]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
            a52 = w2.fma(b, a52);
            b = FloatVector.broadcast(S, x[xk + 6]);
            a60 = w0.fma(b, a60);
            a61 = w1.fma(b, a61);
            a62 = w2.fma(b, a62);
        }
        // accumulator (pixel j, group v) to buf[(j·3 + v)·16]; the epilogue runs on the buffer (no vector-taking
        // helper in a kernel: once compiled on its own, C2 boxes its arguments)
        a00.intoArray(buf, 0);
        a01.intoArray(buf, V);
        a02.intoArray(buf, 2 * V);
        a10.intoArray(buf, 3 * V);
        a11.intoArray(buf, 4 * V);
        a12.intoArray(buf, 5 * V);
        a20.intoArray(buf, 6 * V);
        a21.intoArray(buf, 7 * V);
        a22.intoArray(buf, 8 * V);
        a30.intoArray(buf, 9 * V);
        a31.intoArray(buf, 10 * V);
        a32.intoArray(buf, 11 * V);
        a40.intoArray(buf, 12 * V);
        a41.intoArray(buf, 13 * V);
        a42.intoArray(buf, 14 * V);
        a50.intoArray(buf, 15 * V);
        a51.intoArray(buf, 16 * V);
        a52.intoArray(buf, 17 * V);
        a60.intoArray(buf, 18 * V);
        a61.intoArray(buf, 19 * V);
        a62.intoArray(buf, 20 * V);
        finish(buf, 3, bias, bo, relu, y, yo, hw);
    }

    /** 16 outputs (one group, packed at wo) x 7 pixels: the last group or two of a member. */
    private static void tile1(int cin, float[] w, int wo, float[] x, int xo, int ldx, float[] bias, int bo,
                              boolean relu, float[] y, int yo, int hw, float[] buf) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0;
        for (int k = 0, xk = xo, wk = wo; k < cin; k++, xk += ldx, wk += V) {
            FloatVector w0 = FloatVector.fromArray(S, w, wk);
            a0 = w0.fma(FloatVector.broadcast(S, x[xk]), a0);
            a1 = w0.fma(FloatVector.broadcast(S, x[xk + 1]), a1);
            a2 = w0.fma(FloatVector.broadcast(S, x[xk + 2]), a2);
            a3 = w0.fma(FloatVector.broadcast(S, x[xk + 3]), a3);
            a4 = w0.fma(FloatVector.broadcast(S, x[xk + 4]), a4);
            a5 = w0.fma(FloatVector.broadcast(S, x[xk + 5]), a5);
            a6 = w0.fma(FloatVector.broadcast(S, x[xk + 6]), a6);
        }
        a0.intoArray(buf, 0);
        a1.intoArray(buf, V);
        a2.intoArray(buf, 2 * V);
        a3.intoArray(buf, 3 * V);
        a4.intoArray(buf, 4 * V);
        a5.intoArray(buf, 5 * V);
        a6.intoArray(buf, 6 * V);
        finish(buf, 1, bias, bo, relu, y, yo, hw);
    }

    /**
     * A tile's sums (pixel j, group v at buf[(j·groups + v)·16]) + bias, ReLU when asked (NaN stays NaN, as ReLU's),
     * into y: group v's channel i of pixel j at y[yo + (v·16 + i)·hw + j]. Scalar stores: a scattered vector store
     * (an index map) was compiled as an intrinsic in some JVMs and not in others, where it allocated on every call
     * and the whole pass ran up to 10 % slower (session 11, JFR).
     */
    private static void finish(float[] buf, int groups, float[] bias, int bo, boolean relu, float[] y, int yo, int hw) {
        for (int v = 0; v < groups; v++) {
            for (int i = 0; i < V; i++) {
                float add = bias == null ? 0f : bias[bo + v * V + i];
                int to = yo + (v * V + i) * hw;
                for (int j = 0; j < P; j++) {
                    float t = buf[(j * groups + v) * V + i] + add;
                    y[to + j] = relu && t < 0f ? 0f : t;
                }
            }
        }
    }
}
