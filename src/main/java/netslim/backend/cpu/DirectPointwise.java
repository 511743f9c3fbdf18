package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The serving plan's pointwise conv (1x1, stride 1, no padding, one group) on the 8 x 32 AVX-512 tile, reading x in
 * place: per image, y (cout x HW) = w (cout x cin) · x (cin x HW), and x's rows of HW pixels already are what a
 * GEMM packs B into (k-major runs of 32 columns), so B is never packed; w is packed once, when the plan is made
 * ({@link #prepared}: panels of 8 output channels, k-major), so A is never packed either. A GEMM call per image
 * (OpenBLAS, or the Java {@link BlockedGemm}) packs both on every call: for GoogLeNet's 1x1 convs at batch 8 that
 * copy of x is as many bytes as the product reads, and with 16-48 output channels (the inception reductions) it
 * costs more than the product.
 *
 * <p>Work: (image, 32-column panel, chunk of 8-row tiles) items over the pool, the row chunks finest so that
 * consecutive items share their x panel in cache. Within an item: k-blocks of {@link #KC} (the panel's 128 x 32
 * floats, 16 KiB, stay in L1 across the row tiles), the first block overwriting y, the others adding; bias and ReLU
 * on the finished 8 x 32 tile while it is in L1. Edge tiles (a panel narrower than 32 columns, or fewer than 8 rows
 * left) go through a copy: x's columns into a zero-padded panel, y's tile into a buffer, then the valid part out.
 *
 * <p>Only where {@link VectorMicroKernel#MR} is 8 (16-lane vectors: 16 accumulators + 2 B + 1 A of 32 registers);
 * elsewhere the per-image GEMM stays. {@code -Dnetslim.conv.direct1x1=false} turns it off. Reference:
 * {@link ReferenceConv} (tested in DirectPointwiseTest on every machine, tails and k-blocks included).
 */
final class DirectPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    static final int MR = 8;
    static final int NR = 2 * V;
    /**
     * Inner-dimension block: 128 x 32 floats of x, 16 KiB, in L1 across a panel's row tiles (one core, GoogLeNet
     * shapes at batch 8: 128 gave 62-72 GMAC/s, 256 58-66, 64 55-66: x's rows are hw apart, a page each on the
     * 28x28 maps, and 256 of them miss the TLB). A row chunk of at most 3 tiles takes up to 256 in one block.
     */
    static final int KC = 128;

    private static final boolean ENABLED = !"false".equals(System.getProperty("netslim.conv.direct1x1"));

    /**
     * Output channels at most: up to 64 (the inception reductions, the Tucker chains' ends) OpenBLAS's per-image
     * product ran at 19-34 GMAC/s on one core against 41-62 here; on wider convs in the model (merged siblings at
     * batch 1) the in-place kernel lost up to 5 % (bench/RESULTS.md, session 8).
     */
    static final int MAX_OUT = 64;

    private DirectPointwise() {
    }

    /**
     * Whether sibling pointwise convs with these output counts, stacked as {@code stacked}, run here as one product
     * writing each member's tensor ({@link #forwardSplit}): the tile exists and no 8-row tile spans two members.
     */
    static boolean splits(ConvSpec stacked, int[] couts) {
        return ENABLED && VectorMicroKernel.eightRowTile() && stacked.isPointwise() && stacks(couts, MR, stacked);
    }

    /** Whether 2 or more output counts, each a positive multiple of {@code multiple}, add up to stacked's outputs. */
    static boolean stacks(int[] couts, int multiple, ConvSpec stacked) {
        if (couts.length < 2) return false;
        int sum = 0;
        for (int c : couts) {
            if (c <= 0 || c % multiple != 0) return false;
            sum += c;
        }
        return sum == stacked.outChannels();
    }

    /**
     * Whether the serving plan runs this conv, on input shape x, here (see the class comment): up to
     * {@link #MAX_OUT} outputs, and wider convs too on maps of at most 64 pixels (7x7), where one item covers both
     * panels and w is read once per image, against the GEMM's packing of it on every call (there the weights are
     * most of the bytes), and with at most {@link #MAX_FEW_IN} inputs (a Tucker chain's last 1x1, rank → channels),
     * where the GEMM packs and threads a product of a few multiply-adds per output: compressed GoogLeNet's
     * inception3b 14 → 131 at 28x28 took 0.204 ms there and 0.051 here (whole compressed pass 1.00–1.03x faster,
     * batch 32 1.03x; session 13).
     */
    static boolean takes(ConvSpec s, Shape x) {
        if (!ENABLED || !VectorMicroKernel.eightRowTile() || !s.isPointwise()
                || SkinnyPointwise.takes(s.inChannels(), s.outChannels())) {
            return false;
        }
        return s.outChannels() <= MAX_OUT || (SMALL_MAPS && x.rank() == 4 && x.h() * x.w() <= 2 * NR)
                || (FEW_INPUTS && s.inChannels() <= MAX_FEW_IN);
    }

    /**
     * -Dnetslim.conv.direct1x1FewInputs=false: convs wider than {@link #MAX_OUT} with few inputs go to the GEMM as
     * before (not final: probes build plans both ways).
     */
    static boolean FEW_INPUTS = !"false".equals(System.getProperty("netslim.conv.direct1x1FewInputs"));
    /** Inputs at most for {@link #FEW_INPUTS}: one k-block. */
    static final int MAX_FEW_IN = 32;

    private static final boolean SMALL_MAPS = !"false".equals(System.getProperty("netslim.conv.direct1x1SmallMaps"));

    /**
     * w (cout, cin, 1, 1) packed: tile t (output channels 8t..8t+7) at t·cin·8, element (r, k) at
     * (t·cin + k)·8 + r; rows past cout are zero. Shape (tiles, cin, 8).
     */
    static Tensor prepared(Tensor w, ConvSpec s) {
        if (!s.isPointwise()) throw new IllegalArgumentException("prepareConvWeights: not a pointwise conv: " + s);
        return preparedRows(w, s.outChannels(), s.inChannels(), s);
    }

    /**
     * A conv's weights as a cout x k matrix (k = its fan-in: a kxk conv on im2col columns) packed as
     * {@link #prepared} packs a pointwise conv's, cached the same way. Shape (tiles, k, 8).
     */
    static Tensor preparedRows(Tensor w, int cout, int cin, ConvSpec s) {
        int size = cout * cin;
        if (w.size() != size) {
            ShapeChecks.fail("prepareConvWeights", "w " + w.shape() + " does not match " + s);
        }
        return cached(CACHE, w, size, (wd, wo) -> pack(wd, wo, cout, cin));
    }

    /**
     * The packing of w's first {@code size} floats that {@code pack} makes, from {@code cache}: shared by every plan
     * over the same weights (the embedding API builds one per thread), never stale (each entry keeps a copy of the
     * weights it came from and is used only while they are equal).
     */
    static Tensor cached(netslim.tensor.DerivedCache<Packed> cache, Tensor w, int size,
                         java.util.function.BiFunction<float[], Integer, Tensor> pack) {
        float[] wd = w.data();
        int wo = w.offset();
        return cache.get(wd, q -> q.offset == wo && q.weights.length == size
                        && java.util.Arrays.equals(wd, wo, wo + size, q.weights, 0, size),
                q -> q.offset == wo && q.weights.length == size,
                () -> new Packed(wo, java.util.Arrays.copyOfRange(wd, wo, wo + size), pack.apply(wd, wo))).packed;
    }

    private static Tensor pack(float[] wd, int wo, int cout, int cin) {
        float[] p = new float[packedSize(cout, cin)];
        pack(wd, wo, cout, cin, p);
        return Tensor.of(Shape.of(rowTiles(cout), cin, MR), p);
    }

    /** 8-row tiles of a matrix of cout rows (the last may be partial). */
    static int rowTiles(int cout) {
        return (cout + MR - 1) / MR;
    }

    /** Whether prepared is {@link #preparedRows}' packing of a cout x k matrix (not a Winograd transform). */
    static boolean isPackedRows(Tensor prepared, int cout, int k) {
        var ps = prepared.shape();
        return ps.rank() == 3 && ps.dim(0) == rowTiles(cout) && ps.dim(1) == k && ps.dim(2) == MR;
    }

    /** Floats of a cout x cin matrix packed by {@link #pack(float[], int, int, int, float[])}. */
    static int packedSize(int cout, int cin) {
        return rowTiles(cout) * cin * MR;
    }

    /** The cout x cin matrix at wd[wo] (row-major) into p as {@link #prepared} lays it out (rows past cout zero). */
    static void pack(float[] wd, int wo, int cout, int cin, float[] p) {
        for (int t = 0; t < rowTiles(cout); t++) {
            for (int r = 0; r < MR; r++) {
                int row = wo + (t * MR + r) * cin;
                for (int k = 0; k < cin; k++) p[(t * cin + k) * MR + r] = t * MR + r < cout ? wd[row + k] : 0f;
            }
        }
    }

    /** A packing with the weights it came from (offset in their array, a copy of them). */
    record Packed(int offset, float[] weights, Tensor packed) {
    }

    /** Per weight array (identity, weakly): its packed forms, each with its own copy of the weights it came from. */
    private static final netslim.tensor.DerivedCache<Packed> CACHE = new netslim.tensor.DerivedCache<>();

    /** y (N, cout, H, W) = conv(x, w) + bias, then ReLU when asked; {@code packed} from {@link #prepared}. */
    static void forward(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        forward(pool, x, packed, bias, y, 0, s, relu);
    }

    /**
     * {@link #forward(WorkerPool, Tensor, Tensor, Tensor, Tensor, ConvSpec, boolean)} into channels [c0, c0 + cout)
     * of y (N, C ≥ c0 + cout, H, W): a concat's buffer at batch > 1, where that slice is not contiguous.
     */
    static void forward(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor y, int c0, ConvSpec s,
                        boolean relu) {
        Shape xs = checkInputs("conv2dPrepared", x, packed, bias, s);
        int cin = s.inChannels(), cout = s.outChannels(), hw = xs.h() * xs.w();
        int yc = requireSlice("conv2dPrepared", "y", y, c0, cout, xs);
        run(pool, xs.n(), cin, cout, hw, x.data(), x.offset(), hw, packed.data(), packed.offset(),
                bias == null ? null : bias.data(), bias == null ? 0 : bias.offset(), y.data(), y.offset() + c0 * hw,
                yc * hw, null, null, relu);
    }

    /** y (N, C, H, W) with [c0, c0 + count) within its C channels and x's N, H, W; C. */
    static int requireSlice(String op, String what, Tensor y, int c0, int count, Shape xs) {
        ShapeChecks.requireRank(y, 4, op, what);
        int yc = y.shape().c();
        if (!(c0 >= 0 && c0 + count <= yc)) {
            ShapeChecks.fail(op, what + ": channels [" + c0 + ", " + (c0 + count)
                    + ") do not fit " + y.shape());
        }
        ShapeChecks.requireShape(y, op, what, xs.n(), yc, xs.h(), xs.w());
        return yc;
    }

    /**
     * The members of a split product under op: as many channel offsets and counts as tensors, each count a positive
     * multiple of {@code multiple} whose channels fit its tensor ({@link #requireSlice}), the counts adding up to
     * cout. Returns each member tensor's channel count.
     */
    static int[] requireMembers(String op, Tensor[] ys, int[] c0s, int[] couts, int multiple, int cout, Shape xs) {
        if (!(c0s.length == ys.length && couts.length == ys.length)) {
            ShapeChecks.fail(op,
                    ys.length + " outputs but " + c0s.length + " channel offsets and " + couts.length + " counts");
        }
        int sum = 0;
        int[] channels = new int[ys.length];
        for (int i = 0; i < ys.length; i++) {
            int c = couts[i];
            if (!(c > 0 && c % multiple == 0)) {
                ShapeChecks.fail(op,
                        "ys[" + i + "] " + ys[i].shape() + ": output counts must be multiples of " + multiple + ", got " + c);
            }
            channels[i] = requireSlice(op, "ys[" + i + "]", ys[i], c0s[i], c, xs);
            sum += c;
        }
        if (sum != cout) ShapeChecks.fail(op, "outputs of ys total " + sum + ", not " + cout);
        return channels;
    }

    /** x (N, cin, H, W), packed w and bias (may be null) for pointwise conv s under op; x's shape. */
    private static Shape checkInputs(String op, Tensor x, Tensor packed, Tensor bias, ConvSpec s) {
        if (!s.isPointwise()) throw new IllegalArgumentException(op + ": not a pointwise conv: " + s);
        ShapeChecks.requireRank(x, 4, op, "x");
        Shape xs = x.shape();
        if (xs.c() != s.inChannels()) ShapeChecks.fail(op, "x " + xs + " does not match " + s);
        ShapeChecks.requireShape(packed, op, "packed w", rowTiles(s.outChannels()), s.inChannels(), MR);
        if (bias != null) ShapeChecks.requireShape(bias, op, "bias", s.outChannels());
        return xs;
    }

    /**
     * Sibling pointwise convs as one product ({@link #splits}): ys[i] = rows [r_i, r_i + couts[i]) of the stacked
     * conv (w packed by {@link #prepared} from the stacked weights), + bias rows, ReLU when asked. x's 32-column panel
     * is read once for all members (the members one by one read x once each), and each 8-row tile writes its
     * member's own tensor, so at batch > 1 (where a channel range of one NCHW buffer is not contiguous) no output
     * is copied.
     */
    static void forwardSplit(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor[] ys, ConvSpec s,
                             boolean relu) {
        forwardSplit(pool, x, packed, bias, ys, new int[ys.length], channelCounts(ys), s, relu);
    }

    /** Each member tensor's channel count (-1 where it is not NCHW: the split's checks name it). */
    static int[] channelCounts(Tensor[] ys) {
        int[] couts = new int[ys.length];
        for (int i = 0; i < ys.length; i++) couts[i] = ys[i].shape().rank() == 4 ? ys[i].shape().c() : -1;
        return couts;
    }

    /**
     * {@link #forwardSplit(WorkerPool, Tensor, Tensor, Tensor, Tensor[], ConvSpec, boolean)} with member i's
     * couts[i] outputs written into channels [c0s[i], c0s[i] + couts[i]) of ys[i] (its own tensor, or a concat's
     * buffer at batch > 1).
     */
    static void forwardSplit(WorkerPool pool, Tensor x, Tensor packed, Tensor bias, Tensor[] ys, int[] c0s,
                             int[] couts, ConvSpec s, boolean relu) {
        Shape xs = checkInputs("conv2dPreparedSplit", x, packed, bias, s);
        int cin = s.inChannels(), cout = s.outChannels(), hw = xs.h() * xs.w();
        int[] strides = requireMembers("conv2dPreparedSplit", ys, c0s, couts, MR, cout, xs);
        for (int i = 0; i < strides.length; i++) strides[i] *= hw;
        run(pool, xs.n(), cin, cout, hw, x.data(), x.offset(), hw, packed.data(), packed.offset(),
                bias == null ? null : bias.data(), bias == null ? 0 : bias.offset(), null, 0, 0, ys,
                new int[][] {c0s, couts, strides}, relu);
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(3));
    private static final int PANEL = 0, TILE = 1, HALF = 2;

    /**
     * One image, x's rows ldx ≥ hw apart: with ldx a multiple of 32 and the columns past hw zero (an unfolded
     * image's padded column matrix), the narrow last panel is read in place too (no copy of its cin rows).
     */
    static void forwardPadded(WorkerPool pool, int cin, int cout, int hw, float[] x, int xo, int ldx, float[] pa,
                              int pao, float[] bias, int bo, float[] y, int yo, boolean relu) {
        run(pool, 1, cin, cout, hw, x, xo, ldx, pa, pao, bias, bo, y, yo, cout * hw, null, null, relu);
    }

    /**
     * Into y at yo (images ystride apart), or, with ys not null, each member's rows into its tensor: member m's
     * couts[m] rows at channel c0s[m] of ys[m], images strides[m] apart (members = {c0s, couts, strides}); x's rows
     * ldx apart (images cin·ldx apart).
     */
    private static void run(WorkerPool pool, int images, int cin, int cout, int hw, float[] x, int xo, int ldx,
                            float[] pa, int pao, float[] bias, int bo, float[] y, int yo, int ystride, Tensor[] ys,
                            int[][] members, boolean relu) {
        int tiles = rowTiles(cout);
        if (ys == null && splitsInputs(images, cin, cout, hw, pool.threadsHere())) { // not inside a lane
            inputHalves(pool, cin, cout, hw, x, xo, ldx, pa, pao, bias, bo, y, yo, relu);
            return;
        }
        // At most two panels (maps of up to 64 pixels: 7x7) are one item, so w is read once per image, not per panel.
        int group = hw <= 2 * NR ? 2 : 1, panels = (hw + group * NR - 1) / (group * NR), span = group * NR;
        // Enough items for every thread (4 per thread, as parallelFor's chunks), splitting the row tiles only then.
        int want = 4 * pool.threads(), split = Math.max(1, Math.min(tiles, (want + images * panels - 1)
                / (images * panels)));
        int perSplit = (tiles + split - 1) / split;
        split = (tiles + perSplit - 1) / perSplit;
        int splits = split, items = images * panels * splits;
        pool.parallelFor(items, 1, (i0, i1) -> {
            for (int it = i0; it < i1; it++) {
                int q = it / splits, t0 = (it % splits) * perSplit, t1 = Math.min(tiles, t0 + perSplit);
                int n = q / panels, j0 = (q % panels) * span, j1 = Math.min(hw, j0 + span);
                int block = t1 - t0 <= 3 ? Math.min(cin, 256) : KC;
                if (ys == null) {
                    tiles(cin, cout, x, xo + n * cin * ldx, ldx, pa, pao, bias, bo, y, yo + n * ystride, hw, j0, j1,
                            t0, t1, relu, block);
                } else { // the tiles of each member in [t0, t1), into its tensor (rows r_m.. at its channel c0_m)
                    int[] c0s = members[0], couts = members[1], strides = members[2];
                    for (int m = 0, r = 0; m < ys.length && r < t1 * MR; r += couts[m], m++) {
                        int c = couts[m], a = Math.max(t0, r / MR), b = Math.min(t1, (r + c) / MR);
                        if (a >= b) continue;
                        tiles(cin, cout, x, xo + n * cin * ldx, ldx, pa, pao, bias, bo, ys[m].data(),
                                ys[m].offset() + n * strides[m] + (c0s[m] - r) * hw, hw, j0, j1, a, b, relu, block);
                    }
                }
            }
        });
    }

    /**
     * -Dnetslim.conv.direct1x1InputHalves=false: every call splits its outputs over the threads. Not final: tests and
     * probes build both ways.
     */
    static boolean INPUT_HALVES = !"false".equals(System.getProperty("netslim.conv.direct1x1InputHalves"));

    /**
     * Whether a call splits its inputs instead of its outputs over two threads ({@link #inputHalves}): one image on
     * a map of 65 to 196 pixels (14x14) with at least 256 inputs and at most 128 outputs — GoogLeNet's pool
     * projections at batch 1, whose seven 32-column panels made 14 items of 4 row tiles that ran 1.1–1.3x faster
     * on two threads than on one (each thread read all of x and w). Halves of the inputs: each thread reads half of x
     * and of w; 511 → 64 at 14x14 in a loop 0.083 → 0.064 ms, 0.090 → 0.082 after a 32 MB sweep; 528 → 128 0.186 →
     * 0.133 / 0.248 → 0.214 (session 14). On 28x28 maps the sum's extra pass made it slower from memory.
     */
    static boolean splitsInputs(int images, int cin, int cout, int hw, int threads) {
        return INPUT_HALVES && threads == 2 && images == 1 && hw > 2 * NR && hw <= 196 && cin >= 256 && cout <= 128;
    }

    /**
     * One image, two threads: thread 0 computes w[:, :h] · x[:h] into y, thread 1 w[:, h:] · x[h:] into a scratch
     * (h = cin / 2 rounded to 8), then y = y + scratch + bias, ReLU when asked, split by output rows.
     */
    private static void inputHalves(WorkerPool pool, int cin, int cout, int hw, float[] x, int xo, int ldx,
                                    float[] pa, int pao, float[] bias, int bo, float[] y, int yo, boolean relu) {
        int h = (cin / 2 + 7) / 8 * 8, tiles = rowTiles(cout);
        float[] part = SCRATCH.get().get(HALF, cout * hw);
        pool.parallelFor(2, 1, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int ka = p == 0 ? 0 : h, kb = p == 0 ? h : cin;
                float[] to = p == 0 ? y : part;
                int at = p == 0 ? yo : 0;
                tiles(cin, ka, kb, cout, x, xo, ldx, pa, pao, null, 0, to, at, hw, 0, hw, 0, tiles, false,
                        Math.min(kb - ka, KC));
            }
        });
        pool.parallelFor(cout, 8, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                float add = bias == null ? 0f : bias[bo + r];
                int o = yo + r * hw, q = r * hw, j = 0;
                for (int end = S.loopBound(hw); j < end; j += V) {
                    FloatVector v = FloatVector.fromArray(S, y, o + j).add(FloatVector.fromArray(S, part, q + j));
                    if (bias != null) v = v.add(add);
                    if (relu) v = v.max(0f);
                    v.intoArray(y, o + j);
                }
                for (; j < hw; j++) {
                    float v = y[o + j] + part[q + j];
                    if (bias != null) v += add;
                    y[o + j] = relu ? Math.max(v, 0f) : v;
                }
            }
        });
    }

    /**
     * y (cout x n, row stride ldc) = w · b + bias, ReLU when asked, for all of y's columns: b (cin x n, row stride
     * ldb) read in place, w packed ({@link #pack}), one k-block of up to 256 (all row tiles reuse the 32-column panel
     * of b from L1). The stem's bands: b is a band's unfolded column matrix (cin = channels·kh·kw).
     */
    static void product(int cin, int cout, int n, float[] b, int bOff, int ldb, float[] pa, int pao, float[] bias,
                        int bo, float[] y, int yo, int ldc, boolean relu) {
        for (int j0 = 0; j0 < n; j0 += NR) tiles(cin, cout, b, bOff, ldb, pa, pao, bias, bo, y, yo, ldc, j0,
                Math.min(n, j0 + NR), 0, rowTiles(cout), relu, Math.min(cin, 256));
    }

    /**
     * Row tiles [t0, t1) of the 32-column panels of y's columns [j0, j1) (y: cout rows at yo, row stride ldc) =
     * w · x (cin rows at xo, row stride ldx), in k-blocks of {@code block}; with several panels each 8-row block of w
     * (read from memory once) serves all of them from L1 before the next. The last panel may be narrow: read in
     * place where x's rows are padded to it (ldx ≥ its end), else copied zero-padded; its y tile (and any tile of
     * fewer than 8 rows) goes through a buffer.
     */
    private static void tiles(int cin, int cout, float[] x, int xo, int ldx, float[] pa, int pao,
                              float[] bias, int bo, float[] y, int yo, int ldc, int j0, int j1, int t0, int t1,
                              boolean relu, int block) {
        tiles(cin, 0, cin, cout, x, xo, ldx, pa, pao, bias, bo, y, yo, ldc, j0, j1, t0, t1, relu, block);
    }

    /**
     * {@link #tiles} over inputs [ka, kb) only: y = w[:, ka:kb] · x[ka:kb, :] (+ bias, ReLU when asked, after kb).
     * w stays packed for all cin inputs.
     */
    private static void tiles(int cin, int ka, int kb, int cout, float[] x, int xo, int ldx, float[] pa, int pao,
                              float[] bias, int bo, float[] y, int yo, int ldc, int j0, int j1, int t0, int t1,
                              boolean relu, int block) {
        int np = (j1 - j0 + NR - 1) / NR, jl = j0 + (np - 1) * NR, lastCols = j1 - jl;
        float[] bl = x;
        int blOff = xo + jl, ldl = ldx;
        Scratch sc = null;
        if (lastCols < NR && jl + NR > ldx) { // a narrow last panel not padded in x: its columns, zero-padded
            sc = SCRATCH.get();
            bl = sc.get(PANEL, cin * NR);
            for (int k = ka; k < kb; k++) {
                int from = xo + k * ldx + jl, to = k * NR;
                System.arraycopy(x, from, bl, to, lastCols);
                java.util.Arrays.fill(bl, to + lastCols, to + NR, 0f);
            }
            blOff = 0;
            ldl = NR;
        }
        for (int k0 = ka; k0 < kb; k0 += block) {
            int kc = Math.min(block, kb - k0);
            boolean first = k0 == ka, last = k0 + kc == kb;
            for (int t = t0; t < t1; t++) {
                int r0 = t * MR, rows = Math.min(MR, cout - r0);
                int aOff = pao + (t * cin + k0) * MR;
                for (int p = 0; p < np; p++) {
                    int jj = j0 + p * NR, cols = p == np - 1 ? lastCols : NR;
                    float[] b = p == np - 1 ? bl : x;
                    int ldb = p == np - 1 ? ldl : ldx, bOff = (p == np - 1 ? blOff : xo + jj) + k0 * ldb;
                    if (rows == MR && cols == NR) {
                        int c = yo + r0 * ldc + jj;
                        VectorMicroKernel.runPacked8(kc, pa, aOff, b, bOff, ldb, first ? 0f : 1f, y, c, ldc);
                        if (last && (bias != null || relu)) epilogue(y, c, ldc, MR, NR, bias, bo + r0, relu);
                        continue;
                    }
                    // an edge tile: accumulate in a 8 x 32 buffer kept per (row tile, panel), copy the valid part
                    if (sc == null) sc = SCRATCH.get();
                    float[] buf = sc.get(TILE, (t1 - t0) * np * MR * NR);
                    int c = ((t - t0) * np + p) * MR * NR;
                    VectorMicroKernel.runPacked8(kc, pa, aOff, b, bOff, ldb, first ? 0f : 1f, buf, c, NR);
                    if (last) {
                        for (int r = 0; r < rows; r++) {
                            int to = yo + (r0 + r) * ldc + jj, from = c + r * NR;
                            float add = bias == null ? 0f : bias[bo + r0 + r];
                            for (int j = 0; j < cols; j++) {
                                float v = buf[from + j] + add;
                                y[to + j] = relu && v < 0f ? 0f : v; // NaN stays NaN
                            }
                        }
                    }
                }
            }
        }
    }

    /** rows x cols of c (row stride ldc): + bias[row], then max(·, 0) when asked (NaN stays NaN, as ReLU's). */
    private static void epilogue(float[] c, int cOff, int ldc, int rows, int cols, float[] bias, int bo,
                                 boolean relu) {
        for (int r = 0; r < rows; r++) {
            FloatVector add = FloatVector.broadcast(S, bias == null ? 0f : bias[bo + r]);
            for (int j = 0; j < cols; j += V) {
                int at = cOff + r * ldc + j;
                FloatVector v = FloatVector.fromArray(S, c, at).add(add);
                if (relu) v = v.blend(0f, v.compare(VectorOperators.LT, 0f));
                v.intoArray(c, at);
            }
        }
    }
}
