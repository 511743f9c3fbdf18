package netslim.backend.cpu;

import java.util.Arrays;
import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The multi-threaded CPU backend: convolutions and linear layers lowered to a {@link Gemm} (OpenBLAS or the Java
 * kernel), everything else in Java loops spread over a fixed pool of {@code threads} daemon threads owned by the
 * backend. Results match {@link ReferenceKernels} up to float summation order. Safe to call from several threads
 * at once (scratch buffers are per calling thread).
 */
public final class CpuBackend implements Backend {
    /** Elementwise loops below this many elements stay on the calling thread. */
    private static final int ELEMENTWISE_GRAIN = 32_768;

    private final WorkerPool pool;
    private final Gemm gemm;
    private final CpuConv conv;
    private final SiblingPointwise siblings;
    private final CpuWinograd winograd;
    private final CpuBatchNorm batchNorm;
    private final CpuPooling pooling;

    static {
        JitDirectives.installed(); // before any kernel is compiled: see JitDirectives
    }

    private CpuBackend(int threads, Gemm gemm, Gemm products) {
        this.pool = new WorkerPool(threads);
        this.gemm = gemm;
        this.conv = new CpuConv(pool, gemm, products);
        this.siblings = new SiblingPointwise(pool);
        this.winograd = new CpuWinograd(pool, products);
        this.batchNorm = new CpuBatchNorm(pool);
        this.pooling = new CpuPooling(pool);
    }

    /**
     * The GEMM for the conv paths whose products are many small single-threaded calls on operands they just built:
     * Winograd's 16 or 36 products per chunk and the stem's bands ({@link CpuConv}). {@code mode} is
     * {@code -Dnetslim.conv.products}: {@code gemm} keeps the backend's GEMM, {@code java} takes the Java
     * micro-kernel, {@code auto} (default) the Java kernel where it has AVX-512's 8 x 32 tile
     * ({@link VectorMicroKernel#MR}) and the backend's GEMM elsewhere. Measured on a 2-core AVX-512 Xeon, both GEMMs
     * in one process, passes interleaved (session 7, bench/RESULTS.md): every Winograd layer and conv1 of GoogLeNet
     * ran faster on the Java kernel (conv3 2.39 -> 2.01 ms, conv1 1.89 -> 1.54 ms at batch 1), while OpenBLAS stayed
     * ahead on the plain 1x1 GEMMs, which keep the backend's GEMM. On AVX2 (6 x 16 tile) OpenBLAS was the steadier
     * (see {@link CpuWinograd}).
     */
    static Gemm productsGemm(Gemm gemm, String mode) {
        switch (mode) {
            case "gemm":
                return gemm;
            case "java":
                return gemm instanceof VectorGemm ? gemm : new VectorGemm(1);
            case "auto":
                return autoJavaProducts() && !(gemm instanceof VectorGemm) ? new VectorGemm(1) : gemm;
            default:
                throw new netslim.NetslimException("-Dnetslim.conv.products must be auto, gemm or java, got '" + mode
                        + "'");
        }
    }

    /** Whether the automatic rule of {@link #productsGemm} takes the Java kernel on this machine (AVX-512). */
    public static boolean autoJavaProducts() {
        return VectorMicroKernel.eightRowTile();
    }

    /**
     * CPU backend using {@code threads} threads and the given GEMM; the Winograd and stem products as
     * {@code -Dnetslim.conv.products} says (default auto, see {@link #productsGemm}).
     */
    public static CpuBackend create(int threads, Gemm gemm) {
        return create(threads, gemm, System.getProperty("netslim.conv.products", "auto"));
    }

    /** As {@link #create(int, Gemm)} with the products' GEMM chosen by {@code productsMode} (auto, gemm, java). */
    public static CpuBackend create(int threads, Gemm gemm, String productsMode) {
        if (gemm == null) throw new IllegalArgumentException("gemm must not be null");
        Gemm products = productsGemm(gemm, productsMode); // a bad mode fails here, before the worker threads start
        return new CpuBackend(threads, gemm, products);
    }

    /** All available cores, GEMM chosen by {@code -Dnetslim.gemm=auto|openblas|java} (default auto). */
    public static CpuBackend createDefault() {
        int t = Runtime.getRuntime().availableProcessors();
        return create(t, Gemm.select(System.getProperty("netslim.gemm", "auto"), t));
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public boolean isHost() {
        return true;
    }

    /**
     * While a pass is open the shared workers poll for the next loop instead of parking between ops
     * ({@link WorkerPool#beginPass}); nothing with one thread.
     */
    @Override
    public Pass pass() {
        if (pool.threads() < 2 || !WorkerPool.PASS_SPIN) return Pass.NONE;
        WorkerPool.beginPass();
        return WorkerPool::endPass;
    }

    /** This backend's threads; 1 after {@link #close}. */
    @Override
    public int imageLanes() {
        return pool.closed() ? 1 : pool.threads();
    }

    /** Each lane on a worker of its own ({@link WorkerPool#runOnWorkers}); serially after {@link #close}. */
    @Override
    public void runLanes(int lanes, java.util.function.IntConsumer lane) {
        if (lanes > imageLanes()) {
            throw new IllegalArgumentException("lanes must be at most " + imageLanes() + ", got " + lanes);
        }
        WorkerPool.runOnWorkers(lanes, lane);
    }

    /** Threads of the worker pool (caller included). */
    public int threads() {
        return pool.threads();
    }

    /** The GEMM this backend lowers to. */
    public Gemm gemmKernel() {
        return gemm;
    }

    /** E.g. "cpu (2 threads, gemm openblas)": what bench and demo report. */
    @Override
    public String toString() {
        return "cpu (" + threads() + " threads, gemm " + gemm.name() + ")";
    }

    /** Stops the worker threads; the backend stays usable, single-threaded. */
    @Override
    public void close() {
        pool.close();
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public void upload(Tensor host, Tensor dst) {
        copy(host, dst);
    }

    @Override
    public void download(Tensor src, Tensor host) {
        copy(src, host);
    }

    @Override
    public void fill(Tensor t, float value) {
        float[] d = t.data();
        int o = t.offset();
        forEach(t.size(), (i0, i1) -> Arrays.fill(d, o + i0, o + i1, value));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ShapeChecks.requireSameSize(src, dst, "copy", "src", "dst");
        float[] s = src.data(), d = dst.data();
        int so = src.offset(), doff = dst.offset();
        forEach(src.size(), (i0, i1) -> System.arraycopy(s, so + i0, d, doff + i0, i1 - i0));
    }

    // ---- linear algebra -----------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, int offA, int lda, Tensor b, int offB, int ldb, float beta, Tensor c, int offC, int ldc) {
        gemm.sgemm(transA, transB, m, n, k, alpha, a.data(), a.offset() + offA, lda, b.data(), b.offset() + offB, ldb,
                beta, c.data(), c.offset() + offC, ldc);
    }

    @Override
    public void im2col(Tensor x, int image, ConvSpec s, Tensor col) {
        Im2col.Geometry g = geometry(x.shape(), s, col, "im2col");
        conv.im2col().unfold(x.data(), x.offset(), g, image, 1, 0, g.channels(), col.data(), col.offset(), g.planeOut());
    }

    @Override
    public void col2im(Tensor col, ConvSpec s, Tensor dx, int image) {
        Im2col.Geometry g = geometry(dx.shape(), s, col, "col2im");
        conv.im2col().fold(col.data(), col.offset(), g.planeOut(), g, image, 1, 0, g.channels(), dx.data(), dx.offset());
    }

    private static Im2col.Geometry geometry(Shape xs, ConvSpec s, Tensor col, String what) {
        if (!(xs.rank() == 4 && xs.c() == s.inChannels())) {
            ShapeChecks.fail(what, "image " + xs + " does not match " + s);
        }
        Im2col.Geometry g = new Im2col.Geometry(s, xs.c(), xs.h(), xs.w(), s.outH(xs.h()), s.outW(xs.w()));
        if (!(col.size() == g.channels() * g.taps() * g.planeOut())) {
            ShapeChecks.fail(what,
                    "columns " + col.shape() + " should hold " + g.channels() * g.taps() + "x" + g.planeOut());
        }
        return g;
    }

    // ---- convolution and linear ---------------------------------------------------------------------------

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        if (!winogradForward(x, w, bias, y, s, false)) conv.forward(x, w, bias, y, s);
    }

    @Override
    public void conv2dRelu(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        if (!winogradForward(x, w, bias, y, s, true)) conv.forward(x, w, bias, y, s, true);
    }

    /**
     * The convs that are not prepared (training, and plans without a serving plan's prepared weights) take the
     * Winograd path where the serving plan would ({@link CpuWinograd#tileSize}), with the weights transformed for
     * this call; false when the conv does not take it.
     */
    private boolean winogradForward(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        int m = perCallForwardTile(s, x.shape());
        if (m == 0) return false;
        ShapeChecks.requireShape(w, "conv2d", "w", s.outChannels(), s.inChannels(), 3, 3);
        winograd.forward(x, winograd.transformed(w, s, m, trainingScratch.get(), U), bias, y, s, relu);
        return true;
    }

    /**
     * Unprepared convs take the Winograd path forward only with at least this many output pixels in the call
     * (N·outH·outW): below it the per-call weight transform is not paid back. Session 10 measured 1,024 (7x7 maps at
     * batch 8 lost then); the Winograd path has got faster since, and session 17 measured (2 threads, per call,
     * im2col + GEMM against Winograd, ms): GoogLeNet's 7x7 convs at batch 8 (392 pixels) 3.20 / 2.31, 2.07 / 1.53,
     * 0.39 / 0.31; at batch 4 (196) 1.87 / 1.63, 1.05 / 0.96; 14x14 at batch 1 (196) 1.48 / 1.12, 0.52 / 0.45, 0.084 /
     * 0.082; at batch 2 (98 pixels) even (0.98 / 0.96, 0.58 / 0.58). The input gradient has its own line
     * ({@link #INPUT_GRADIENT_WINOGRAD_MIN_PIXELS}).
     */
    static final int PER_CALL_WINOGRAD_MIN_PIXELS = 196;

    /** The Winograd tile an unprepared conv's forward takes on x of shape {@code x}; 0 when it stays on the GEMM. */
    static int perCallForwardTile(ConvSpec s, Shape x) {
        int m = CpuWinograd.tileSize(s, x);
        return m == 0 || outputPixels(s, x) < PER_CALL_WINOGRAD_MIN_PIXELS ? 0 : m;
    }

    /**
     * The input gradient (a conv of dy, see {@link #winogradInputGradient}) takes Winograd only with at least this many
     * pixels of dx in the call and dx at least {@link #INPUT_GRADIENT_WINOGRAD_MIN_WIDTH} wide: on 7x7 maps it loses
     * (session 17, ms, im2col + GEMM against Winograd: batch 8 2.56 / 2.60, 1.77 / 1.98, 0.29 / 0.39; batch 16 3.57 /
     * 3.69, 0.51 / 0.84), at 14x14 from batch 4 (784 pixels) and at 28x28 from batch 1 it wins (1.85 / 1.39, 3.69 /
     * 2.60; 1.02 / 0.71, 1.70 / 1.24).
     */
    static final int INPUT_GRADIENT_WINOGRAD_MIN_PIXELS = 784, INPUT_GRADIENT_WINOGRAD_MIN_WIDTH = 14;

    private static long outputPixels(ConvSpec s, Shape x) {
        return (long) x.n() * s.outH(x.h()) * s.outW(x.w());
    }

    /**
     * Per calling thread: the buffers of the per-call Winograd convs (training), reused from call to call — the
     * transformed weights (U) and the input gradient before it is added into dx (DX, with
     * -Dnetslim.winograd.addInto=false).
     */
    private final ThreadLocal<Scratch> trainingScratch = ThreadLocal.withInitial(() -> new Scratch(2));
    private static final int U = 0, DX = 1;

    /**
     * Winograd weights, (16, K, C) for F(2x2, 3x3) or (36, K, C) for F(4x4, 3x3), for the 3x3 stride-1 convs where
     * that pays ({@link CpuWinograd#tileSize}); the pointwise convs' weights in 8-row panels where the 8 x 32 tile
     * runs them in place ({@link DirectPointwise#takes(ConvSpec, Shape)}); other batch-1 convs' weights as a
     * cout x K matrix in those panels for the unfolded in-place product ({@link CpuConv#unfoldsInPlace}); else null.
     */
    @Override
    public Tensor prepareConvWeights(Tensor w, ConvSpec s, Shape x) {
        ShapeChecks.requireShape(w, "prepareConvWeights", "w", s.outChannels(), s.inChannels() / s.groups(), s.kh(),
                s.kw());
        if (ChannelPointwise.takes(s, x)) return ChannelPointwise.prepared(w, s);
        if (DirectPointwise.takes(s, x)) return DirectPointwise.prepared(w, s);
        int m = CpuWinograd.tileSize(s, x);
        if (m != 0) return CpuWinograd.prepared(w, s, winograd.packed(), m);
        return CpuConv.unfoldsInPlace(s, x) ? DirectPointwise.preparedRows(w, s.outChannels(), s.fanIn(), s) : null;
    }

    /**
     * The stacked weights in {@link DirectPointwise}'s 8-row panels where the 8 x 32 tile exists and every member's
     * output count is a multiple of 8 (no tile spans two members), else null.
     */
    @Override
    public Tensor prepareSplitPointwise(Tensor w, ConvSpec stacked, int[] couts, Shape x) {
        if (ChannelPointwise.splits(stacked, couts, x)) return ChannelPointwise.prepared(w, stacked);
        return DirectPointwise.splits(stacked, couts) ? DirectPointwise.prepared(w, stacked) : null;
    }

    @Override
    public void conv2dPreparedSplit(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, ConvSpec stacked,
                                    boolean relu) {
        if (ChannelPointwise.isPacked(prepared, stacked)) {
            ChannelPointwise.forwardSplit(pool, x, prepared, bias, ys, new int[ys.length],
                    DirectPointwise.channelCounts(ys), stacked, relu);
            return;
        }
        DirectPointwise.forwardSplit(pool, x, prepared, bias, ys, stacked, relu);
    }

    /** The 8 x 32 tile's pointwise weights and Winograd's (not the batch-1 unfolded product's rows). */
    @Override
    public boolean writesChannelSlices(Tensor prepared, ConvSpec s) {
        return s.isPointwise() || !DirectPointwise.isPackedRows(prepared, s.outChannels(), s.fanIn());
    }

    @Override
    public void conv2dPreparedSlice(Tensor x, Tensor prepared, Tensor bias, Tensor y, int c0, ConvSpec s,
                                    boolean relu) {
        if (ChannelPointwise.isPacked(prepared, s)) {
            ChannelPointwise.forward(pool, x, prepared, bias, y, c0, s, relu);
        } else if (s.isPointwise()) {
            DirectPointwise.forward(pool, x, prepared, bias, y, c0, s, relu);
        } else if (DirectPointwise.isPackedRows(prepared, s.outChannels(), s.fanIn())) {
            throw new UnsupportedOperationException("conv2dPreparedSlice: the unfolded product writes no slices");
        } else {
            winograd.forward(x, prepared, bias, y, c0, s, relu);
        }
    }

    @Override
    public void conv2dPreparedSplitSlices(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, int[] c0s,
                                          int[] couts, ConvSpec stacked, boolean relu) {
        if (ChannelPointwise.isPacked(prepared, stacked)) {
            ChannelPointwise.forwardSplit(pool, x, prepared, bias, ys, c0s, couts, stacked, relu);
            return;
        }
        DirectPointwise.forwardSplit(pool, x, prepared, bias, ys, c0s, couts, stacked, relu);
    }

    @Override
    public void conv2dPrepared(Tensor x, Tensor prepared, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        if (ChannelPointwise.isPacked(prepared, s)) {
            ChannelPointwise.forward(pool, x, prepared, bias, y, 0, s, relu);
        } else if (s.isPointwise()) {
            DirectPointwise.forward(pool, x, prepared, bias, y, s, relu);
        } else if (DirectPointwise.isPackedRows(prepared, s.outChannels(), s.fanIn())) {
            conv.forwardUnfolded(x, prepared, bias, y, s, relu);
        } else {
            winograd.forward(x, prepared, bias, y, s, relu);
        }
    }

    /** Sibling pointwise convs as one product over their stacked weights where {@link SiblingPointwise} takes them. */
    @Override
    public void conv2dSiblings(Tensor x, Tensor[] ws, Tensor[] bs, Tensor[] ys, ConvSpec[] specs) {
        if (stacksSiblings(x, specs)) {
            siblings.forward(x, ws, bs, ys, specs);
        } else {
            Backend.super.conv2dSiblings(x, ws, bs, ys, specs);
        }
    }

    /** Whether {@link #conv2dSiblings} runs these members as one stacked product (SiblingPointwise#takes). */
    boolean stacksSiblings(Tensor x, ConvSpec[] specs) {
        return siblings.takes(gemm instanceof OpenBlasGemm, x, specs);
    }

    /** See {@link #conv2dSiblings}; the bias gradients as conv2dBackward computes them. */
    @Override
    public void conv2dSiblingsBackward(Tensor x, Tensor[] ws, Tensor[] dys, Tensor dx, Tensor[] dws, Tensor[] dbs,
                                       ConvSpec[] specs) {
        if (stacksSiblings(x, specs) && java.util.Arrays.stream(dws).allMatch(java.util.Objects::nonNull)) {
            for (int i = 0; i < ws.length; i++) {
                if (dbs[i] != null) conv.backward(x, ws[i], dys[i], null, null, dbs[i], specs[i]);
            }
            siblings.backward(x, ws, dys, dx, dws, specs);
        } else {
            Backend.super.conv2dSiblingsBackward(x, ws, dys, dx, dws, dbs, specs);
        }
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        convBackward(x, w, dy, dx, dw, db, s, false);
    }

    /**
     * dx written, not added into: the Winograd input gradient writes it in its output transform and the per-image
     * pointwise products with beta 0 (no zeroing pass); the other paths zero it first.
     */
    @Override
    public void conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        convBackward(x, w, dy, dx, dw, db, s, true);
    }

    private void convBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s,
                              boolean into) {
        if (dx != null && winogradInputGradient(w, dy, dx, s, into)) dx = null; // done; dw, db below as before
        if (dx != null && into && !conv.writesInputGradient(x, w, dy, s)) {
            fill(dx, 0f);
            into = false;
        }
        if (dw != null && winogradWeightGradient(x, dy, s)) {
            winograd.weightGradient(x, dy, dw, s, weightGradientTile(s, dy.shape()));
            dw = null;
        }
        conv.backward(x, w, dy, dx, dw, db, s, into);
    }

    /**
     * -Dnetslim.conv.winogradWeightGradient=false: every conv's dW by im2col + GEMM. Not final: probes flip it.
     */
    static boolean WINOGRAD_DW = !"false".equals(System.getProperty("netslim.conv.winogradWeightGradient"));

    /**
     * Whether a conv's weight gradient takes {@link CpuWinograd#weightGradient}: 3x3 stride 1 where the forward would
     * take the Winograd path ({@link CpuWinograd#pays}; -Dnetslim.winograd=off turns this off too), on maps at least
     * {@link #WINOGRAD_DW_MIN_WIDTH} wide with at least {@link #WINOGRAD_DW_MIN_TILES} 2x2 tiles of dy in the call.
     * Measured on GoogLeNet's 3x3 shapes (dW alone, im2col + GEMM / Winograd, bench/RESULTS.md, session 15): at batch
     * 8, 56x56 1.56x, 28x28 1.23–1.32x, 14x14 (392 tiles) 0.97–1.28x, 7x7 0.59–0.77x; 7x7 lost at batch 32 too
     * (0.58–0.80x: a row of 4 tiles fills a quarter of a vector), 14x14 at batch 2 (98 tiles: 0.37–1.01x).
     */
    static boolean winogradWeightGradient(Tensor x, Tensor dy, ConvSpec s) {
        if (!WINOGRAD_DW || !CpuWinograd.pays(s, x.shape())) return false;
        Shape g = dy.shape();
        long tiles = (long) g.n() * ((g.h() + 1) / 2) * ((g.w() + 1) / 2);
        return g.w() >= WINOGRAD_DW_MIN_WIDTH && tiles >= WINOGRAD_DW_MIN_TILES;
    }

    /** See {@link #winogradWeightGradient}. */
    static final int WINOGRAD_DW_MIN_WIDTH = 14, WINOGRAD_DW_MIN_TILES = 256;

    /**
     * -Dnetslim.conv.winogradWeightGradientTile=auto|2|4: the dy tile of a Winograd weight gradient (auto: {@link
     * #weightGradientTile}'s rule). Not final: probes set it.
     */
    static int WEIGHT_GRADIENT_TILE = parseWeightGradientTile(
            System.getProperty("netslim.conv.winogradWeightGradientTile", "auto"));

    static int parseWeightGradientTile(String v) {
        return switch (v) {
            case "auto" -> 0;
            case "2" -> 2;
            case "4" -> 4;
            default -> throw new netslim.NetslimException(
                    "-Dnetslim.conv.winogradWeightGradientTile must be auto, 2 or 4, got '" + v + "'");
        };
    }

    /**
     * The dy tile (2 or 4) of a weight gradient that {@link #winogradWeightGradient} takes: F(3x3, 4x4) on maps at
     * least {@link #WEIGHT_GRADIENT4_MIN_WIDTH} wide with at least {@link #WEIGHT_GRADIENT4_MIN_CHANNELS} input
     * channels and {@link CpuWinograd#MIN_TILES4} 4x4 tiles of dy, else F(3x3, 2x2). Measured on GoogLeNet's 3x3
     * shapes (dW alone, medians of 40–90 alternated rounds in one JVM, bench/RESULTS.md, session 18): F(4x4) against
     * F(2x2) 1.29x at 56x56 (batch 8 and 1), 1.08–1.22x at 28x28 with 96–128 channels in (1.07x at batch 32); 0.74x
     * at 28x28 with 32 in, 0.75–0.81x on 14x14 maps (a row of 4 tiles, 30 % of each cropped), 0.84–0.98x at 16x16; on
     * googlenet-cifar's 32x32 conv3 0.91–0.97x (taken anyway: no rule of width or channels separates it from the
     * 28x28 and 56x56 maps that gain).
     */
    static int weightGradientTile(ConvSpec s, Shape dy) {
        if (WEIGHT_GRADIENT_TILE != 0) return WEIGHT_GRADIENT_TILE;
        long tiles4 = (long) dy.n() * ((dy.h() + 3) / 4) * ((dy.w() + 3) / 4);
        boolean f4 = dy.w() >= WEIGHT_GRADIENT4_MIN_WIDTH && s.inChannels() >= WEIGHT_GRADIENT4_MIN_CHANNELS
                && tiles4 >= CpuWinograd.MIN_TILES4;
        return f4 ? 4 : 2;
    }

    /** See {@link #weightGradientTile}. */
    static final int WEIGHT_GRADIENT4_MIN_WIDTH = 28, WEIGHT_GRADIENT4_MIN_CHANNELS = 64;

    /**
     * dx of a 3x3 stride-1 conv is itself a 3x3 stride-1 conv: of dy, with the weights transposed (in ↔ out) and
     * turned by 180°, padding 2 − pad. Where that conv takes the Winograd path ({@link CpuWinograd#tileSize} on dy)
     * it runs there — 2.25x (F(2x2)) or 4x (F(4x4)) fewer multiplies than the GEMM into columns and the col2im fold
     * (which adds every column back, 9 per input element) — its output transform adding into dx, or with into
     * writing it; the weight transform reads the turned kernels in place from w. False (dx untouched) when it does
     * not apply.
     */
    private boolean winogradInputGradient(Tensor w, Tensor dy, Tensor dx, ConvSpec s, boolean into) {
        int m = inputGradientTile(s, dy.shape());
        if (m == 0) return false;
        ConvSpec t = ConvSpec.of(s.outChannels(), s.inChannels(), 3, 1, 2 - s.padH());
        int k = s.outChannels(), c = s.inChannels();
        ShapeChecks.requireShape(w, "conv2dBackward", "w", k, c, 3, 3);
        ShapeChecks.requireShape(dx, "conv2dBackward", "dx", dy.shape().n(), c, t.outH(dy.shape().h()),
                t.outW(dy.shape().w()));
        Scratch sc = trainingScratch.get();
        Tensor u = winograd.transformedTurned(w, t, m, sc, U); // the turned weights read in place from w
        if (into || WINOGRAD_DX_ADDS) {
            winograd.forward(dy, u, null, dx, 0, t, false, !into); // written, or added in
        } else {
            Tensor tmp = new Tensor(dx.shape(), new netslim.tensor.HostStorage(sc.get(DX, dx.size())), 0);
            winograd.forward(dy, u, null, tmp, t, false);
            axpy(1f, tmp, dx);
        }
        return true;
    }

    /**
     * The Winograd tile size (2 or 4) that a conv's input gradient takes ({@link #winogradInputGradient}), for dy of
     * shape {@code dy}; 0 when it stays on the GEMM and col2im.
     */
    static int inputGradientTile(ConvSpec s, Shape dy) {
        if (!CpuWinograd.eligible(s) || s.padH() != s.padW() || s.padH() > 2) return 0;
        ConvSpec t = ConvSpec.of(s.outChannels(), s.inChannels(), 3, 1, 2 - s.padH());
        int m = CpuWinograd.tileSize(t, dy);
        boolean pays = outputPixels(t, dy) >= INPUT_GRADIENT_WINOGRAD_MIN_PIXELS
                && t.outW(dy.w()) >= INPUT_GRADIENT_WINOGRAD_MIN_WIDTH;
        return m == 0 || !pays ? 0 : m;
    }

    /**
     * -Dnetslim.winograd.addInto=false: the Winograd input gradient is written to a scratch tensor and then added
     * into dx (a second pass over dx), instead of added in the output transform. Same bits. Not final: tests and
     * probes flip it.
     */
    static boolean WINOGRAD_DX_ADDS = !"false".equals(System.getProperty("netslim.winograd.addInto"));

    @Override
    public void linear(Tensor x, Tensor w, Tensor b, Tensor y) {
        int n = x.shape().dim(0), in = w.shape().dim(1), out = w.shape().dim(0);
        if (!(x.size() == n * in && y.size() == n * out)) {
            ShapeChecks.fail("linear",
                    "x " + x.shape() + ", w " + w.shape() + ", y " + y.shape() + " do not fit");
        }
        // y (N × out) = x (N × in) · wᵀ, then the bias row added to every sample.
        gemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
        if (b != null) {
            float[] yd = y.data(), bd = b.data();
            for (int r = 0; r < n; r++) {
                int o = y.offset() + r * out;
                for (int j = 0; j < out; j++) yd[o + j] += bd[b.offset() + j];
            }
        }
    }

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int n = x.shape().dim(0), in = w.shape().dim(1), out = w.shape().dim(0);
        if (!(x.size() == n * in && dy.size() == n * out)) {
            ShapeChecks.fail("linearBackward",
                    "x " + x.shape() + ", w " + w.shape() + ", dy " + dy.shape() + " do not fit");
        }
        if (dx != null) gemm(false, false, n, in, out, 1f, dy, 0, out, w, 0, in, 1f, dx, 0, in);   // dx += dy · w
        if (dw != null) gemm(true, false, out, in, n, 1f, dy, 0, out, x, 0, in, 1f, dw, 0, in);    // dw += dyᵀ · x
        if (db != null) {
            float[] g = dy.data();
            for (int j = 0; j < out; j++) {
                double sum = 0;
                for (int r = 0; r < n; r++) sum += g[dy.offset() + r * out + j];
                db.set(j, db.get(j) + (float) sum);
            }
        }
    }

    // ---- normalisation ------------------------------------------------------------------------------------

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                               float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        batchNorm.train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, false);
    }

    /** The ReLU applied in the affine pass (one pass over y fewer); the same bits as the two ops. */
    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        batchNorm.train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd, true);
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        batchNorm.eval(x, gamma, beta, mean, var, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, true);
    }

    @Override
    public void batchNormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                      Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNorm.backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, false);
    }

    /** The slice forms: y and dy at their channels of a concat's buffers (CpuBatchNorm reads the buffer's layout). */
    @Override
    public boolean batchNormReluSlices() {
        return true;
    }

    @Override
    public void batchNormTrainReluSlice(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                        float momentum, float eps, Tensor yBuffer, int c0, Tensor saveMean,
                                        Tensor saveInvStd) {
        batchNorm.train(x, gamma, beta, runMean, runVar, momentum, eps, yBuffer, c0, saveMean, saveInvStd, true);
    }

    @Override
    public void batchNormReluBackwardIntoSlice(Tensor x, Tensor dyBuffer, int c0, Tensor gamma, Tensor beta,
                                               Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                               Tensor dbeta) {
        batchNorm.backward(x, dyBuffer, c0, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta, false, true);
    }

    /**
     * The ReLU's mask recomputed from x and the saved statistics plane by plane, right before the BatchNorm's sums
     * read the plane: y is not read, and dy is written once (the two ops: y, dy and dy again in the ReLU's pass).
     */
    @Override
    public void batchNormReluBackwardInto(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor beta,
                                          Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                          Tensor dbeta) {
        ShapeChecks.requireShape(y, x.shape(), "batchNormReluBackwardInto", "y");
        batchNorm.backward(x, dy, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta, false, true);
    }

    // ---- activations --------------------------------------------------------------------------------------

    /** Both are one elementwise pass that reads each element before writing it. */
    @Override
    public boolean reluInPlace() {
        return true;
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        clip(x, 0f, Float.POSITIVE_INFINITY, y);
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> RELU_SPECIES =
            jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        ShapeChecks.requireSameSize(y, dy, "reluBackward", "y", "dy");
        ShapeChecks.requireSameSize(dy, dx, "reluBackward", "dy", "dx");
        float[] yd = y.data(), g = dy.data(), d = dx.data();
        int yo = y.offset(), go = dy.offset(), dO = dx.offset();
        // vectorised select: after ReLU about half the outputs are 0, so a per-element branch mispredicts constantly
        forEach(y.size(), (i0, i1) -> {
            int i = i0;
            for (int end = i0 + RELU_SPECIES.loopBound(i1 - i0); i < end; i += RELU_SPECIES.length()) {
                var yv = jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, yd, yo + i);
                var gv = jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, g, go + i);
                var dv = jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, d, dO + i);
                dv.add(gv, yv.compare(jdk.incubator.vector.VectorOperators.GT, 0f)).intoArray(d, dO + i);
            }
            for (; i < i1; i++) if (yd[yo + i] > 0f) d[dO + i] += g[go + i];
        });
    }

    /**
     * {@link #reluBackward}'s loop with the accumulator replaced by zero: a separate loop, not one with a flag, since
     * C2 boxes a vector that two branches assign (session 9, bench/RESULTS.md).
     */
    @Override
    public void reluBackwardInto(Tensor y, Tensor dy, Tensor dx) {
        ShapeChecks.requireSameSize(y, dy, "reluBackwardInto", "y", "dy");
        ShapeChecks.requireSameSize(dy, dx, "reluBackwardInto", "dy", "dx");
        float[] yd = y.data(), g = dy.data(), d = dx.data();
        int yo = y.offset(), go = dy.offset(), dO = dx.offset();
        forEach(y.size(), (i0, i1) -> {
            int i = i0;
            for (int end = i0 + RELU_SPECIES.loopBound(i1 - i0); i < end; i += RELU_SPECIES.length()) {
                var yv = jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, yd, yo + i);
                var gv = jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, g, go + i);
                // dy where y > 0, +0 elsewhere (as 0 + dy·[y > 0] would be, −0 included: 0 + −0 = +0)
                jdk.incubator.vector.FloatVector.zero(RELU_SPECIES)
                        .add(gv, yv.compare(jdk.incubator.vector.VectorOperators.GT, 0f)).intoArray(d, dO + i);
            }
            for (; i < i1; i++) d[dO + i] = yd[yo + i] > 0f ? 0f + g[go + i] : 0f;
        });
    }

    @Override
    public void clip(Tensor x, float lo, float hi, Tensor y) {
        ShapeChecks.requireSameSize(x, y, "clip", "x", "y");
        float[] xd = x.data(), yd = y.data();
        int xo = x.offset(), yo = y.offset();
        // lanewise MAX/MIN have Math.max/min semantics (NaN propagates, max(-0, 0) = 0), so the tail loop agrees
        forEach(x.size(), (i0, i1) -> {
            int i = i0;
            for (int end = i0 + RELU_SPECIES.loopBound(i1 - i0); i < end; i += RELU_SPECIES.length()) {
                jdk.incubator.vector.FloatVector.fromArray(RELU_SPECIES, xd, xo + i).max(lo).min(hi).intoArray(yd, yo + i);
            }
            for (; i < i1; i++) yd[yo + i] = Math.min(Math.max(xd[xo + i], lo), hi);
        });
    }

    @Override
    public void clipBackward(Tensor x, float lo, float hi, Tensor dy, Tensor dx) {
        ShapeChecks.requireSameSize(x, dy, "clipBackward", "x", "dy");
        ShapeChecks.requireSameSize(dy, dx, "clipBackward", "dy", "dx");
        float[] xd = x.data(), g = dy.data(), d = dx.data();
        int xo = x.offset(), go = dy.offset(), dO = dx.offset();
        forEach(x.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float v = xd[xo + i];
                if (v > lo && v < hi) d[dO + i] += g[go + i];
            }
        });
    }

    // ---- pooling ------------------------------------------------------------------------------------------

    @Override
    public void maxPool(Tensor x, Tensor y, PoolSpec s) {
        pooling.maxForward(x, y, s);
    }

    @Override
    public void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        pooling.maxBackward(x, dy, dx, s, true);
    }

    /**
     * Each plane of dx zeroed just before its gradients are routed into it (in cache), not in a pass of its own over
     * the whole tensor first (GoogLeNet at batch 8: ~60 MB a training step); {@code
     * -Dnetslim.pool.zeroPlanes=false} zeroes dx first, as the interface's default.
     */
    @Override
    public void maxPoolBackwardInto(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        if (!ZERO_PLANES) fill(dx, 0f);
        pooling.maxBackward(x, dy, dx, s, !ZERO_PLANES);
    }

    /** See {@link #maxPoolBackwardInto}. Not final: probes flip it. */
    static boolean ZERO_PLANES = !"false".equals(System.getProperty("netslim.pool.zeroPlanes"));

    @Override
    public void avgPool(Tensor x, Tensor y, PoolSpec s) {
        pooling.avgForward(x, y, s);
    }

    @Override
    public void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s) {
        pooling.avgBackward(dy, dx, s);
    }

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        pooling.globalAvgForward(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        pooling.globalAvgBackward(dy, dx);
    }

    // ---- elementwise, data movement -----------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        ShapeChecks.requireSameSize(a, b, "add", "a", "b");
        ShapeChecks.requireSameSize(a, y, "add", "a", "y");
        float[] ad = a.data(), bd = b.data(), yd = y.data();
        int ao = a.offset(), bo = b.offset(), yo = y.offset();
        forEach(a.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) yd[yo + i] = ad[ao + i] + bd[bo + i];
        });
    }

    @Override
    public void axpy(float alpha, Tensor src, Tensor dst) {
        ShapeChecks.requireSameSize(src, dst, "axpy", "src", "dst");
        float[] s = src.data(), d = dst.data();
        int so = src.offset(), dO = dst.offset();
        forEach(src.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) d[dO + i] += alpha * s[so + i];
        });
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int channels, boolean accumulate) {
        Shape ss = src.shape(), ds = dst.shape();
        boolean ok = ss.rank() >= 2 && ds.rank() >= 2 && ss.dim(0) == ds.dim(0)
                && ss.size() / (ss.dim(0) * ss.dim(1)) == ds.size() / (ds.dim(0) * ds.dim(1))
                && srcC0 >= 0 && dstC0 >= 0 && srcC0 + channels <= ss.dim(1) && dstC0 + channels <= ds.dim(1);
        if (!ok) { // message built only on failure (this runs for every concat input)
            ShapeChecks.fail("copyChannels",
                    channels + " channels from " + ss + " at " + srcC0 + " into " + ds + " at " + dstC0);
        }
        int hw = ss.size() / (ss.dim(0) * ss.dim(1));
        int len = channels * hw;
        float[] s = src.data(), d = dst.data();
        pool.parallelFor(ss.dim(0), Math.max(1, ELEMENTWISE_GRAIN / Math.max(1, len)), (n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int so = src.offset() + (n * ss.dim(1) + srcC0) * hw;
                int dO = dst.offset() + (n * ds.dim(1) + dstC0) * hw;
                if (accumulate) {
                    for (int i = 0; i < len; i++) d[dO + i] += s[so + i];
                } else {
                    System.arraycopy(s, so, d, dO, len);
                }
            }
        });
    }

    @Override
    public void dropout(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        ShapeChecks.requireSameSize(x, mask, "dropout", "x", "mask");
        ShapeChecks.requireSameSize(x, y, "dropout", "x", "y");
        float keepScale = p < 1f ? 1f / (1f - p) : 0f;
        float[] xd = x.data(), md = mask.data(), yd = y.data();
        int xo = x.offset(), mo = mask.offset(), yo = y.offset();
        forEach(x.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float m = ReferenceKernels.dropoutKeep(seed, i, p) ? keepScale : 0f;
                md[mo + i] = m;
                yd[yo + i] = xd[xo + i] * m;
            }
        });
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
        ShapeChecks.requireSameSize(dy, mask, "dropoutBackward", "dy", "mask");
        ShapeChecks.requireSameSize(dy, dx, "dropoutBackward", "dy", "dx");
        float[] g = dy.data(), md = mask.data(), d = dx.data();
        int go = dy.offset(), mo = mask.offset(), dO = dx.offset();
        forEach(dy.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) d[dO + i] += g[go + i] * md[mo + i];
        });
    }

    // ---- loss and optimiser -------------------------------------------------------------------------------

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float labelSmoothing, Tensor probs) {
        return SoftmaxCrossEntropy.forward(logits, labels, labelSmoothing, probs);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, int[] labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        SoftmaxCrossEntropy.backward(probs, labels, labelSmoothing, scale, dlogits);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        ShapeChecks.requireSameSize(param, grad, "sgdStep", "param", "grad");
        // As the reference: the velocity is updated whenever it is given (with momentum 0 it just holds g).
        boolean useVelocity = velocity != null;
        if (!(useVelocity || momentum == 0f)) {
            ShapeChecks.fail("sgdStep", "momentum " + momentum + " needs a velocity");
        }
        if (useVelocity) ShapeChecks.requireSameSize(param, velocity, "sgdStep", "param", "velocity");
        float[] p = param.data(), g = grad.data(), v = useVelocity ? velocity.data() : null;
        int po = param.offset(), go = grad.offset(), vo = useVelocity ? velocity.offset() : 0;
        forEach(param.size(), (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                float step = g[go + i] + weightDecay * p[po + i];
                if (useVelocity) {
                    float vel = momentum * v[vo + i] + step;
                    v[vo + i] = vel;
                    step = nesterov ? step + momentum * vel : vel;
                }
                p[po + i] -= lr * step;
            }
        });
    }

    /** An elementwise loop over [0, n), split over the pool when n is large. */
    private void forEach(int n, WorkerPool.RangeBody body) {
        pool.parallelFor(n, ELEMENTWISE_GRAIN, body);
    }
}
