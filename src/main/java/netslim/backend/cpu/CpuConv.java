package netslim.backend.cpu;

import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Convolution forward and backward on the CPU, lowered to GEMM:
 * <ul>
 *   <li>1x1, stride 1, no padding: Y_n,g (out_g × HW) = W_g (out_g × in_g) · X_n,g (in_g × HW), straight on NCHW
 *       memory (no im2col); with at most 8 channels in or out (low-rank Tucker ends) directly, without a GEMM
 *       ({@link SkinnyPointwise});</li>
 *   <li>a stem-like conv (one group, K ≤ 256, ≥ 4096 output positions): per band of output rows, unfold + one
 *       single-threaded GEMM on a worker ({@link #forwardBanded});</li>
 *   <li>otherwise im2col + GEMM per group over a block of images;</li>
 *   <li>depthwise: {@link DepthwiseConv}.</li>
 * </ul>
 * Small feature maps (HW below {@link #MIN_GEMM_COLUMNS}) are batched: the columns of several images sit side by
 * side so one GEMM gets at least that many columns, and the result is scattered back to NCHW. Parallelism lives
 * in the GEMM (which is multi-threaded) and in the unfold/fold/scatter passes, never nested.
 */
final class CpuConv {
    /** A GEMM with fewer output columns than this runs badly; batch images until it has this many. */
    static final int MIN_GEMM_COLUMNS = 512;
    /** Cap of the per-thread column buffer used for batching images (floats; 16 MiB). */
    private static final int MAX_BLOCK_FLOATS = 4 << 20;

    private final WorkerPool pool;
    private final Gemm gemm;
    private final Im2col im2col;
    private final DepthwiseConv depthwise;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(() -> new Scratch(3));

    /** Single-threaded GEMM of the same kind, for the per-image 1x1 products ({@link #perImagePointwise}). */
    private final Gemm single;
    /** Single-threaded GEMM for the per-band products of {@link #forwardBanded}: of {@code products}' kind. */
    private final Gemm bandGemm;

    /** {@code gemm}: the backend's GEMM; {@code products}: the one for the stem's bands (see CpuBackend). */
    CpuConv(WorkerPool pool, Gemm gemm, Gemm products) {
        this.pool = pool;
        this.gemm = gemm;
        this.single = oneThread(gemm);
        this.bandGemm = oneThread(products);
        this.im2col = new Im2col(pool);
        this.depthwise = new DepthwiseConv(pool);
    }

    private static Gemm oneThread(Gemm g) {
        return g instanceof OpenBlasGemm ? new OpenBlasGemm(1) : new VectorGemm(1);
    }

    Im2col im2col() {
        return im2col;
    }

    /** Per-call shapes: the geometry plus N and the group sizes. */
    private record Plan(Im2col.Geometry g, int images, int groups, int inG, int outG, int k, int blockImages) {
        ConvSpec spec() {
            return g.spec();
        }

        int hw() {
            return g.planeOut();
        }

        /** Element offset of (image n, channel c) in y / dy, relative to the tensor's first element. */
        int outPlane(int n, int c) {
            return (n * spec().outChannels() + c) * hw();
        }

        int inPlane(int n, int c) {
            return (n * spec().inChannels() + c) * g.planeIn();
        }

        boolean direct() {
            ConvSpec s = spec();
            return blockImages == 1 && s.kh() == 1 && s.kw() == 1 && s.strideH() == 1 && s.strideW() == 1
                    && s.padH() == 0 && s.padW() == 0;
        }
    }

    private static Plan plan(Tensor x, Tensor w, Tensor y, ConvSpec s) {
        ShapeChecks.requireRank(x, 4, "conv2d", "x");
        if (x.shape().c() != s.inChannels()) { // message built only on failure: plan() runs on every call
            ShapeChecks.fail("conv2d", "x " + x.shape() + " does not match " + s);
        }
        ShapeChecks.requireShape(w, "conv2d", "w", s.outChannels(), s.inChannels() / s.groups(), s.kh(), s.kw());
        ShapeChecks.requireShape(y, "conv2d", "y/dy", x.shape().n(), s.outChannels(), s.outH(x.shape().h()),
                s.outW(x.shape().w()));
        Im2col.Geometry g = new Im2col.Geometry(s, s.inChannels(), x.shape().h(), x.shape().w(),
                y.shape().h(), y.shape().w());
        int n = x.shape().n();
        int k = s.fanIn();
        int hw = g.planeOut();
        int block = 1;
        if (hw < MIN_GEMM_COLUMNS) {
            block = Math.min(n, (MIN_GEMM_COLUMNS + hw - 1) / hw);
            block = Math.max(1, Math.min(block, MAX_BLOCK_FLOATS / Math.max(1, k * hw)));
        }
        return new Plan(g, n, s.groups(), s.inChannels() / s.groups(), s.outChannels() / s.groups(), k, block);
    }

    void forward(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        forward(x, w, bias, y, s, false);
    }

    /**
     * Forward with an optional fused ReLU. The bias and the ReLU are applied per GEMM block, right after the block's
     * output is written (while it is still in cache), in one pass: y = max(0, y + b) — the same float operations as
     * adding the bias and then a separate ReLU pass.
     */
    void forward(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        Plan p = plan(x, w, y, s);
        float[] xd = x.data(), wd = w.data(), yd = y.data();
        if (s.isDepthwise()) {
            depthwise.forward(xd, x.offset(), wd, w.offset(), bias == null ? null : bias.data(),
                    bias == null ? 0 : bias.offset(), yd, y.offset(), p.g(), p.images());
            if (relu) epilogue(p, yd, y.offset(), null, 0, 0, p.images(), 0, s.outChannels(), true);
            return;
        }
        float[] bd = bias == null ? null : bias.data();
        int bOff = bias == null ? 0 : bias.offset();
        if (banded(p)) {
            forwardBanded(p, xd, x.offset(), wd, w.offset(), bd, bOff, yd, y.offset(), relu);
            return;
        }
        if (p.spec().isPointwise() && SkinnyPointwise.takes(p.inG(), p.outG())) {
            SkinnyPointwise.forward(pool, p.images(), p.inG(), p.outG(), p.hw(), xd, x.offset(), wd, w.offset(), bd,
                    bOff, yd, y.offset(), relu);
            return;
        }
        if (perImagePointwise(p)) {
            Gemm.Epilogue epilogue = bd != null || relu ? rows(bd, bOff, 0, relu) : null;
            int xo = x.offset(), yo = y.offset();
            pool.parallelFor(p.images(), 1, (n0, n1) -> {
                for (int n = n0; n < n1; n++) {
                    single.sgemm(false, false, p.outG(), p.hw(), p.inG(), 1f, wd, w.offset(), p.inG(),
                            xd, xo + p.inPlane(n, 0), p.hw(), 0f, yd, yo + p.outPlane(n, 0), p.hw(), epilogue);
                }
            });
            return;
        }
        for (int n0 = 0; n0 < p.images(); n0 += p.blockImages()) {
            int b = Math.min(p.blockImages(), p.images() - n0);
            for (int grp = 0; grp < p.groups(); grp++) {
                // One image: the GEMM writes y's planes directly, so bias + ReLU run per GEMM block as it finishes
                // (in cache, no separate pass); several images go through a gather buffer first.
                Gemm.Epilogue inGemm = b == 1 && (bd != null || relu) ? rows(bd, bOff, grp * p.outG(), relu) : null;
                forwardBlock(p, xd, x.offset(), wd, w.offset(), yd, y.offset(), n0, b, grp, inGemm);
                if (inGemm == null && (bd != null || relu)) {
                    epilogue(p, yd, y.offset(), bd, bOff, n0, b, grp * p.outG(), p.outG(), relu);
                }
            }
        }
    }

    /**
     * A pointwise conv (1x1, stride 1, no padding, one group) over at least as many images as threads: one
     * single-threaded GEMM per image straight on NCHW, the images spread over the workers — no im2col copy of small
     * maps and no scatter (the batched path), no split of each product over the threads (the per-image path).
     */
    private boolean perImagePointwise(Plan p) {
        return PER_IMAGE_POINTWISE && p.spec().isPointwise() && p.images() >= pool.threads() && pool.threads() > 1;
    }

    private static final boolean PER_IMAGE_POINTWISE = !"false".equals(System.getProperty("netslim.conv.perImage1x1"));

    /** Floats of one band's column matrix: 256 KiB, half of a core's L2. */
    static final int BAND_FLOATS = 1 << 16;

    /**
     * A stem-like conv (one group, few taps·channels, a big output plane: GoogLeNet's and ResNet's 7x7 stride-2
     * conv1) runs in bands of output rows: the whole-image column matrix would be K x HW (7.4 MB for GoogLeNet's
     * conv1) and go through memory twice, while a band's stays in L2 between its unfolding and its product.
     */
    private static boolean banded(Plan p) {
        return !p.direct() && p.groups() == 1 && p.blockImages() == 1 && stemSized(p.k(), p.hw()) && BANDS;
    }

    /** Few taps·channels (k) over a big output plane (hw): the size of a conv that runs in bands. */
    private static boolean stemSized(long k, long hw) {
        return k <= 256 && hw >= 4096;
    }

    private static final boolean BANDS = !"false".equals(System.getProperty("netslim.conv.bands"));

    /**
     * Whether a serving plan runs this conv as {@link #forwardUnfolded}: batch 1, one group, not pointwise (those are
     * DirectPointwise's) nor depthwise, more than {@link SkinnyPointwise#MAX_OUT} outputs and inputs, not the banded
     * stem (bands keep its column matrix in L2), where the 8 x 32 tile exists. Winograd's 3x3 convs are decided
     * first (CpuBackend.prepareConvWeights). {@code -Dnetslim.conv.unfoldedInPlace=false} turns it off.
     */
    static boolean unfoldsInPlace(ConvSpec s, Shape x) {
        if (!UNFOLDED_IN_PLACE || !VectorMicroKernel.eightRowTile() || x.rank() != 4 || x.n() != 1) return false;
        if (s.groups() != 1 || s.isPointwise() || s.outChannels() <= SkinnyPointwise.MAX_OUT
                || s.inChannels() <= SkinnyPointwise.MAX_IN) {
            return false;
        }
        long hw = (long) s.outH(x.h()) * s.outW(x.w()), k = s.fanIn();
        return !stemSized(k, hw) && k * hw <= MAX_UNFOLDED_FLOATS;
    }

    private static final boolean UNFOLDED_IN_PLACE =
            !"false".equals(System.getProperty("netslim.conv.unfoldedInPlace"));

    /** Floats of the column matrix {@link #forwardUnfolded} builds (16 MiB). */
    private static final long MAX_UNFOLDED_FLOATS = 1L << 22;

    /**
     * A batch-1 conv with its weights packed once at plan time ({@link DirectPointwise#preparedRows}, the cout x K
     * matrix in 8-row panels): the image unfolded once (K x HW, rows over the pool), then the in-place 8 x 32
     * product reads the columns where they lie ({@link DirectPointwise#forwardPadded}). The per-call GEMM packs the
     * weights again on every call: at batch 1 on 7x7 maps (GoogLeNet's inception5) they are most of the bytes.
     */
    void forwardUnfolded(Tensor x, Tensor packed, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        ShapeChecks.requireRank(x, 4, "conv2dPrepared", "x");
        Shape xs = x.shape();
        if (!unfoldsInPlace(s, xs)) {
            ShapeChecks.fail("conv2dPrepared", "x " + xs + " is not an unfolded-in-place "
                    + "conv's input for " + s);
        }
        int k = s.fanIn(), cout = s.outChannels(), oh = s.outH(xs.h()), ow = s.outW(xs.w()), hw = oh * ow;
        if (!(DirectPointwise.isPackedRows(packed, cout, k))) {
            ShapeChecks.fail("conv2dPrepared",
                    "prepared w " + packed.shape() + " does not match " + s);
        }
        ShapeChecks.requireShape(y, "conv2dPrepared", "y", 1, cout, oh, ow);
        if (bias != null) ShapeChecks.requireShape(bias, "conv2dPrepared", "bias", cout);
        Im2col.Geometry g = new Im2col.Geometry(s, s.inChannels(), xs.h(), xs.w(), oh, ow);
        // Rows padded to whole 32-column panels, so the narrow last panel is read in place too; what its columns
        // past hw hold only reaches tile columns that are never copied out (a lane's result depends on its column).
        int ld = BlockedGemm.roundUp(hw, DirectPointwise.NR);
        float[] col = scratch.get().get(Scratch.COLUMNS, k * ld);
        im2col.unfold(x.data(), x.offset(), g, 0, 1, 0, s.inChannels(), col, 0, ld);
        DirectPointwise.forwardPadded(pool, k, cout, hw, col, 0, ld, packed.data(), packed.offset(),
                bias == null ? null : bias.data(), bias == null ? 0 : bias.offset(), y.data(), y.offset(), relu);
    }

    /**
     * Where the 8 x 32 tile exists (AVX-512), a band's product reads its column matrix in place with w packed once
     * per call ({@link DirectPointwise#product}) instead of a GEMM call that packs both per band.
     * {@code -Dnetslim.conv.directStem=false} turns it off.
     */
    private static final boolean DIRECT_STEM = !"false".equals(System.getProperty("netslim.conv.directStem"));

    /**
     * Each band (output rows [oy0, oy1) of one image) on one worker: unfold the band into that thread's buffer, then
     * one single-threaded GEMM writes y's rows directly, bias and ReLU applied per finished block.
     */
    private void forwardBanded(Plan p, float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] y,
                               int yOff, boolean relu) {
        int outW = p.g().outW(), outH = p.g().outH(), k = p.k(), outC = p.outG();
        int fit = Math.max(1, Math.min(outH, BAND_FLOATS / Math.max(1, k * outW)));
        Gemm.Epilogue epilogue = bias != null || relu ? rows(bias, bOff, 0, relu) : null;
        boolean skinny = SkinnyPointwise.takes(k, outC);
        float[] packed = null;
        if (!skinny && DIRECT_STEM && VectorMicroKernel.eightRowTile()) { // w packed once per call, read by all
            packed = scratch.get().get(Scratch.PACKED, DirectPointwise.packedSize(outC, k));
            DirectPointwise.pack(w, wOff, outC, k, packed);
            // Whole 32-column panels where down to half the rows allow (GoogLeNet's 112-wide rows: 2 rows, not
            // 3 and a 16-column last panel through the edge copy, a fifth of the stem's time).
            for (int r = fit; r >= Math.max(1, fit / 2); r--) {
                if (r * outW % DirectPointwise.NR == 0) {
                    fit = r;
                    break;
                }
            }
        }
        float[] pa = packed;
        Im2col.Columns[] byKernelColumn = Im2col.Columns.all(p.g());
        int rowsPerBand = fit, perImage = (outH + rowsPerBand - 1) / rowsPerBand, bands = p.images() * perImage;
        pool.parallelFor(bands, 1, (q0, q1) -> {
            Scratch sc = scratch.get();
            for (int q = q0; q < q1; q++) {
                int n = q / perImage, oy0 = (q % perImage) * rowsPerBand, oy1 = Math.min(outH, oy0 + rowsPerBand);
                int cols = (oy1 - oy0) * outW;
                float[] col = sc.get(Scratch.COLUMNS, k * cols);
                Im2col.unfoldRows(x, xOff, p.g(), byKernelColumn, n, 0, p.inG(), oy0, oy1, col, 0, cols);
                if (skinny) { // a low-rank Tucker core: a few output channels
                    SkinnyPointwise.product(k, outC, cols, col, 0, cols, w, wOff, bias, bOff,
                            y, yOff + p.outPlane(n, 0) + oy0 * outW, p.hw(), relu);
                } else if (pa != null) { // the band's columns read in place, w pre-packed: no packing per band
                    DirectPointwise.product(k, outC, cols, col, 0, cols, pa, 0, bias, bOff,
                            y, yOff + p.outPlane(n, 0) + oy0 * outW, p.hw(), relu);
                } else {
                    bandGemm.sgemm(false, false, outC, cols, k, 1f, w, wOff, k, col, 0, cols, 0f,
                            y, yOff + p.outPlane(n, 0) + oy0 * outW, p.hw(), epilogue);
                }
            }
        });
    }

    /**
     * The epilogue on a GEMM block whose rows are output channels c0 + i: y = y + bias[c] (when there is a bias),
     * then max(0, ·) (when relu) — the float operations of {@link #epilogue}.
     */
    private static Gemm.Epilogue rows(float[] bias, int bOff, int c0, boolean relu) {
        return (c, offC, ldc, i0, i1, j0, j1) -> {
            for (int i = i0; i < i1; i++) biasRelu(c, offC + i * ldc + j0, j1 - j0, bias, bOff + c0 + i, relu);
        };
    }

    /**
     * y[o, o + len) = y + bias[at] (only when bias is not null: adding 0 would turn -0 into +0), then max(0, ·) when
     * relu. Vector lanes use Math.max semantics, as the ReLU op does (NaN stays NaN).
     */
    static void biasRelu(float[] y, int o, int len, float[] bias, int at, boolean relu) {
        boolean addBias = bias != null;
        float bc = addBias ? bias[at] : 0f;
        int i = 0;
        for (int end = FS.loopBound(len); i < end; i += FS.length()) {
            var v = jdk.incubator.vector.FloatVector.fromArray(FS, y, o + i);
            if (addBias) v = v.add(bc);
            if (relu) v = v.max(0f);
            v.intoArray(y, o + i);
        }
        for (; i < len; i++) {
            float v = y[o + i];
            if (addBias) v += bc;
            y[o + i] = relu ? Math.max(v, 0f) : v;
        }
    }

    private void forwardBlock(Plan p, float[] x, int xOff, float[] w, int wOff, float[] y, int yOff,
                              int n0, int b, int grp, Gemm.Epilogue epilogue) {
        int wg = wOff + grp * p.outG() * p.k();
        if (p.direct()) {
            gemm.sgemm(false, false, p.outG(), p.hw(), p.inG(), 1f, w, wg, p.inG(),
                    x, xOff + p.inPlane(n0, grp * p.inG()), p.hw(), 0f, y, yOff + p.outPlane(n0, grp * p.outG()), p.hw(),
                    epilogue);
            return;
        }
        int cols = b * p.hw();
        Scratch sc = scratch.get();
        float[] col = sc.get(Scratch.COLUMNS, p.k() * cols);
        im2col.unfold(x, xOff, p.g(), n0, b, grp * p.inG(), p.inG(), col, 0, cols);
        if (b == 1) {
            gemm.sgemm(false, false, p.outG(), cols, p.k(), 1f, w, wg, p.k(), col, 0, cols,
                    0f, y, yOff + p.outPlane(n0, grp * p.outG()), p.hw(), epilogue);
        } else {
            float[] tmp = sc.get(Scratch.GATHER, p.outG() * cols);
            gemm.sgemm(false, false, p.outG(), cols, p.k(), 1f, w, wg, p.k(), col, 0, cols, 0f, tmp, 0, cols);
            moveBlock(p, tmp, y, yOff, n0, b, grp * p.outG(), true);
        }
    }

    void backward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        backward(x, w, dy, dx, dw, db, s, false);
    }

    /**
     * Whether {@link #backward} with {@code into} writes the whole of dx itself (the per-image pointwise path: each
     * image's dX_n is one product), so dx needs no zeroing first.
     */
    boolean writesInputGradient(Tensor x, Tensor w, Tensor dy, ConvSpec s) {
        Plan p = plan(x, w, dy, s);
        return !s.isDepthwise() && perImagePointwise(p) && perImageBackward(p.hw(), p.outG());
    }

    /** {@link #backward}; with into, dx is overwritten — only where {@link #writesInputGradient} (else added into). */
    void backward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s, boolean into) {
        Plan p = plan(x, w, dy, s);
        if (dx != null) ShapeChecks.requireShape(dx, x.shape(), "conv2dBackward", "dx");
        if (dw != null) ShapeChecks.requireShape(dw, w.shape(), "conv2dBackward", "dw");
        if (s.isDepthwise()) {
            depthwise.backward(x.data(), x.offset(), w.data(), w.offset(), dy.data(), dy.offset(),
                    dx == null ? null : dx.data(), dx == null ? 0 : dx.offset(),
                    dw == null ? null : dw.data(), dw == null ? 0 : dw.offset(),
                    db == null ? null : db.data(), db == null ? 0 : db.offset(), p.g(), p.images());
            return;
        }
        if (db != null) biasGradient(dy.data(), dy.offset(), db.data(), db.offset(), p.images(), s.outChannels(), p.hw());
        if (dx == null && dw == null) return;
        if (perImagePointwise(p) && perImageBackward(p.hw(), p.outG())) {
            perImagePointwiseBackward(p, x, w, dy, dx, dw, into);
            return;
        }
        if (into && dx != null) throw new IllegalStateException("conv2dBackwardInto: this path adds into dx: " + s);
        for (int n0 = 0; n0 < p.images(); n0 += p.blockImages()) {
            int b = Math.min(p.blockImages(), p.images() - n0);
            for (int grp = 0; grp < p.groups(); grp++) backwardBlock(p, x, w, dy, dx, dw, n0, b, grp);
        }
    }

    /**
     * -Dnetslim.conv.perImage1x1Backward=false: a pointwise conv's backward at batch > 1 as before (maps under 512
     * pixels through the batched im2col path, larger ones one image at a time with each product split over the
     * threads). Not final: probes flip it.
     */
    static boolean PER_IMAGE_BACKWARD = !"false".equals(System.getProperty("netslim.conv.perImage1x1Backward"));

    /**
     * Whether a pointwise conv that {@link #perImagePointwise} takes also runs its backward per image: on maps of at
     * least {@link #PER_IMAGE_BACKWARD_MIN_PIXELS} pixels, or with at most {@link #PER_IMAGE_BACKWARD_SMALL_OUT}
     * outputs. GoogLeNet's 1x1s at batch 8, dx + dw, the older paths / per image (bench/RESULTS.md, session 15):
     * 1.18–1.92x on the 14x14, 28x28 and 56x56 maps but two (0.98, 1.06); on 7x7 maps 1.42–1.59x with 32 and 48
     * outputs, 1.01 with 128, 0.67–0.92 with 160–384 (one batched product of 8 images' columns beats eight products
     * of 49 columns there).
     */
    static boolean perImageBackward(int pixels, int outputs) {
        return PER_IMAGE_BACKWARD
                && (pixels >= PER_IMAGE_BACKWARD_MIN_PIXELS || outputs <= PER_IMAGE_BACKWARD_SMALL_OUT);
    }

    static final int PER_IMAGE_BACKWARD_MIN_PIXELS = 196, PER_IMAGE_BACKWARD_SMALL_OUT = 64;

    /**
     * The backward of a pointwise conv that {@link #perImagePointwise} takes, as its forward runs: the images in
     * contiguous shares, one per thread, each image's dX_n += Wᵀ · dY_n and dW += dY_n · X_nᵀ single-threaded GEMMs
     * straight on NCHW — no gather of dY, no column copy of X, no col2im fold, no split of each small product over
     * the threads. Each share adds its dW into a buffer of its own (the first image overwrites it); the shares' dWs
     * are then added into dw.
     */
    private void perImagePointwiseBackward(Plan p, Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, boolean into) {
        float dxBeta = into ? 0f : 1f;
        int images = p.images(), parts = Math.min(pool.threads(), images), hw = p.hw(), in = p.inG(), out = p.outG();
        int size = out * in;
        float[] partial = dw == null ? null : scratch.get().get(Scratch.GATHER, parts * size);
        pool.parallelFor(parts, 1, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int first = WorkerPool.split(images, parts, q), end = WorkerPool.split(images, parts, q + 1);
                for (int n = first; n < end; n++) {
                    int dyOff = dy.offset() + p.outPlane(n, 0), xOff = p.inPlane(n, 0);
                    if (dw != null) {
                        single.sgemm(false, true, out, in, hw, 1f, dy.data(), dyOff, hw, x.data(),
                                x.offset() + xOff, hw, n == first ? 0f : 1f, partial, q * size, in);
                    }
                    if (dx != null) {
                        single.sgemm(true, false, in, hw, out, 1f, w.data(), w.offset(), in, dy.data(), dyOff, hw,
                                dxBeta, dx.data(), dx.offset() + xOff, hw);
                    }
                }
            }
        });
        if (dw != null) addParts(partial, parts, size, dw.data(), dw.offset());
    }

    /**
     * d[o, o + size) += each of the {@code parts} partial weight gradients in partial (part q at q·size), in part
     * order, split over the threads by elements where there are enough.
     */
    private void addParts(float[] partial, int parts, int size, float[] d, int o) {
        addParts(pool, partial, 0, size, parts, size, d, o);
    }

    /**
     * d[o, o + count) += partial[from + q·stride, from + q·stride + count) for each part q in [0, parts), in part
     * order, split over the threads by elements where there are enough (also {@link SiblingPointwise}'s: a member's
     * rows of each share's stacked weight gradient).
     */
    static void addParts(WorkerPool pool, float[] partial, int from, int stride, int parts, int count, float[] d,
                         int o) {
        pool.parallelFor(count, 16_384, (i0, i1) -> {
            for (int q = 0; q < parts; q++) {
                int p = from + q * stride;
                for (int i = i0; i < i1; i++) d[o + i] += partial[p + i];
            }
        });
    }

    private void backwardBlock(Plan p, Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, int n0, int b, int grp) {
        int wg = w.offset() + grp * p.outG() * p.k();
        int dwg = dw == null ? 0 : dw.offset() + grp * p.outG() * p.k();
        int dyOff = dy.offset() + p.outPlane(n0, grp * p.outG());
        if (p.direct()) {
            int xOff = p.inPlane(n0, grp * p.inG());
            // dW_g += dY_n · X_nᵀ ; dX_n += W_gᵀ · dY_n
            if (dw != null) {
                gemm.sgemm(false, true, p.outG(), p.inG(), p.hw(), 1f, dy.data(), dyOff, p.hw(),
                        x.data(), x.offset() + xOff, p.hw(), 1f, dw.data(), dwg, p.inG());
            }
            if (dx != null) {
                gemm.sgemm(true, false, p.inG(), p.hw(), p.outG(), 1f, w.data(), wg, p.inG(),
                        dy.data(), dyOff, p.hw(), 1f, dx.data(), dx.offset() + xOff, p.hw());
            }
            return;
        }
        int cols = b * p.hw();
        Scratch sc = scratch.get();
        float[] col = sc.get(Scratch.COLUMNS, p.k() * cols);
        float[] g = dy.data();
        int gOff = dyOff, ldg = p.hw();
        if (b > 1) {
            g = sc.get(Scratch.GATHER, p.outG() * cols);
            gOff = 0;
            ldg = cols;
            moveBlock(p, g, dy.data(), dy.offset(), n0, b, grp * p.outG(), false);
        }
        if (dw != null && b == 1 && p.groups() == 1 && stemSized(p.k(), p.hw()) && BANDED_DW) {
            weightGradientInBands(p, x, g, gOff, ldg, dw.data(), dwg, n0);
        } else if (dw != null) {
            im2col.unfold(x.data(), x.offset(), p.g(), n0, b, grp * p.inG(), p.inG(), col, 0, cols);
            gemm.sgemm(false, true, p.outG(), p.k(), cols, 1f, g, gOff, ldg, col, 0, cols, 1f, dw.data(), dwg, p.k());
        }
        if (dx != null) {
            // dcol = W_gᵀ · dY_g, then fold (col2im) adds it into dx.
            gemm.sgemm(true, false, p.k(), cols, p.outG(), 1f, w.data(), wg, p.k(), g, gOff, ldg, 0f, col, 0, cols);
            im2col.fold(col, 0, cols, p.g(), n0, b, grp * p.inG(), p.inG(), dx.data(), dx.offset());
        }
    }

    /**
     * -Dnetslim.conv.bandedWeightGradient=false: a stem-sized conv's dW from the whole image's column matrix, as
     * other convs. Not final: probes flip it.
     */
    static boolean BANDED_DW = !"false".equals(System.getProperty("netslim.conv.bandedWeightGradient"));
    /** Floats of a band's column matrix in {@link #weightGradientInBands} (512 kB: in L2 with dY's band). */
    private static final int DW_BAND_FLOATS = 128 * 1024;

    /**
     * dW += dY · colᵀ for one image of a stem-sized conv (few taps·channels over a big map: conv1, whose column
     * matrix is 147 x 12,544, 7.4 MB an image) band by band of output rows, as {@link #forwardBanded} does forward:
     * each thread unfolds its bands into a buffer that stays in cache and adds each band's product into a dW of its
     * own (single-threaded GEMM), and the threads' dWs are then added into dw — instead of unfolding the whole image
     * to memory and reading it back.
     */
    private void weightGradientInBands(Plan p, Tensor x, float[] g, int gOff, int ldg, float[] dw, int dwg, int n) {
        int outW = p.g().outW(), outH = p.g().outH(), k = p.k(), size = p.outG() * k;
        int rows = Math.max(1, Math.min(outH, DW_BAND_FLOATS / (k * outW))), bands = (outH + rows - 1) / rows;
        int parts = Math.min(pool.threads(), bands);
        float[] partial = scratch.get().get(Scratch.GATHER, parts * size); // b == 1: the gather buffer is free
        Im2col.Columns[] byKernelColumn = Im2col.Columns.all(p.g());
        pool.parallelFor(parts, 1, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int first = WorkerPool.split(bands, parts, q), end = WorkerPool.split(bands, parts, q + 1);
                for (int band = first; band < end; band++) {
                    int oy0 = band * rows, oy1 = Math.min(outH, oy0 + rows), cols = (oy1 - oy0) * outW;
                    float[] col = scratch.get().get(Scratch.COLUMNS, k * cols);
                    Im2col.unfoldRows(x.data(), x.offset(), p.g(), byKernelColumn, n, 0, p.inG(), oy0, oy1, col, 0,
                            cols);
                    single.sgemm(false, true, p.outG(), k, cols, 1f, g, gOff + oy0 * outW, ldg, col, 0, cols,
                            band == first ? 0f : 1f, partial, q * size, k);
                }
            }
        });
        addParts(partial, parts, size, dw, dwg);
    }

    /**
     * Moves rows between a block matrix (channels × b·HW, images side by side) and NCHW planes of images
     * [n0, n0 + b), channels [c0, c0 + rows): {@code toNchw} scatters block → tensor, else gathers tensor → block.
     */
    private void moveBlock(Plan p, float[] block, float[] t, int tOff, int n0, int b, int c0, boolean toNchw) {
        int hw = p.hw(), cols = b * hw;
        pool.parallelFor(p.outG(), Math.max(1, 16_384 / cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int i = 0; i < b; i++) {
                    int plane = tOff + p.outPlane(n0 + i, c0 + r);
                    if (toNchw) System.arraycopy(block, r * cols + i * hw, t, plane, hw);
                    else System.arraycopy(t, plane, block, r * cols + i * hw, hw);
                }
            }
        });
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> FS = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

    /**
     * y = y + bias[c] (when bias is not null), then max(0, ·) (when relu), on the planes of images [n0, n0 + b) and
     * channels [c0, c0 + cn). Vector lanes use Math.max semantics, as the ReLU op does (NaN stays NaN).
     */
    private void epilogue(Plan p, float[] y, int yOff, float[] bias, int bOff, int n0, int b, int c0, int cn,
                          boolean relu) {
        int hw = p.hw();
        pool.parallelFor(b * cn, Math.max(1, 16_384 / hw), (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int c = c0 + q % cn;
                biasRelu(y, yOff + p.outPlane(n0 + q / cn, c), hw, bias, bOff + c, relu);
            }
        });
    }

    /** db[c] += Σ over images and positions of dy[n, c] (in double: {@link #VECTOR_BIAS_GRADIENT}). */
    private void biasGradient(float[] dy, int dyOff, float[] db, int dbOff, int images, int channels, int hw) {
        pool.parallelFor(channels, Math.max(1, 16_384 / (hw * images)), (c0, c1) -> {
            float[] lanes = new float[CpuBatchNorm.LANES]; // channelSum's, where it sums across planes
            for (int c = c0; c < c1; c++) {
                double acc = 0;
                if (VECTOR_BIAS_GRADIENT) {
                    acc = CpuBatchNorm.channelSum(dy, dyOff + c * hw, channels * hw, images, hw, lanes);
                } else {
                    for (int n = 0; n < images; n++) {
                        int o = dyOff + (n * channels + c) * hw;
                        for (int q = 0; q < hw; q++) acc += dy[o + q];
                    }
                }
                db[dbOff + c] += (float) acc;
            }
        });
    }

    /**
     * -Dnetslim.conv.vectorBiasGradient=false: a conv's bias gradient as one scalar double chain per channel (one
     * dependent add per element) instead of BatchNorm's channel sums ({@link CpuBatchNorm#channelSum}: float lanes
     * in blocks of 16 terms, then double) — on a 64-channel 112x112 dy at batch 8 2.9 → 0.8 ms (googlenet-cifar's
     * convs all have biases). Not final: probes flip it.
     */
    static boolean VECTOR_BIAS_GRADIENT = !"false".equals(System.getProperty("netslim.conv.vectorBiasGradient"));
}
