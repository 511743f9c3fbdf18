package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions at inference (Lavin and Gray, 2016): each 2x2 output tile
 * comes from a 4x4 input tile d as {@code Y = Aᵀ [Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)] A}, so the channel sum is 16 matrix
 * products {@code M[ξ] (K x T) = U[ξ] (K x C) · V[ξ] (C x T)} over the tiles T — 16 products per 4 outputs instead
 * of 36, 2.25x fewer multiply-adds than im2col + GEMM.
 *
 * <p>The weights are transformed once per serving plan ({@link #transformWeights}: U, 16·K·C floats, built in
 * double). A forward cuts the tiles of all images into chunks of whole tile rows; each worker thread takes whole
 * chunks and runs the three steps of a chunk back to back in its own buffers, so a chunk's V and M are still in
 * cache when the next step reads them:
 * <ol>
 *   <li>input transform: the four input rows of a tile row are split into even and odd columns once, after which
 *       Bᵀ d B is plain vector arithmetic across 8 neighbouring tiles (no gathers);</li>
 *   <li>16 single-threaded products: {@code cblas_sgemm} when the products' GEMM is OpenBLAS, else the Java GEMM's
 *       micro-kernel ({@link VectorMicroKernel}) on U pre-packed in its panel layout (which one: {@code
 *       CpuBackend.productsGemm});</li>
 *   <li>output transform Aᵀ M A, bias and ReLU across 8 tiles, then the two output rows of each tile row are
 *       interleaved back into NCHW (cropping odd sizes).</li>
 * </ol>
 * Which convs take this path is decided per layer by shape ({@link #pays}); see bench/RESULTS.md for the numbers.
 *
 * <p>F(4x4, 3x3) (6x6 input tiles 4 apart: 36 products per 16 outputs, 4x fewer multiply-adds than im2col) runs
 * through the same chunks and products with its own transforms ({@link #inputTransform4}, {@link #outputTransform4});
 * {@link #tileSize} picks it per layer where its 1.78x fewer products outweigh its dearer transforms. Its weights
 * are a (36, K, C) U, so the tile size travels with the prepared weights.
 *
 * <p>Why OpenBLAS for the products on AVX2: on the AMD EPYC of session 5, in a whole GoogLeNet forward, the
 * JIT-compiled 6 x 16 Java micro-kernel ran at either ~70 or ~45 GFLOP/s per core depending on the JVM run (the same
 * compilation log in both; alone, at any operand alignment, it always ran at ~74), so the Java path's speed varied
 * 1.5x between runs, while OpenBLAS's assembly kernel gave the same time in every run (bench/RESULTS.md, session 5).
 * With AVX-512's 8 x 32 tile the Java kernel was the faster on every Winograd layer (session 7).
 */
final class CpuWinograd {
    static {
        JitDirectives.installed(); // before any of this class's methods is compiled: see JitDirectives
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Tiles per chunk aimed at (-Dnetslim.winograd.tiles): enough columns for the products. 48–256 measured within
     * noise of each other on GoogLeNet at batch 1 (where every thread gets one chunk anyway); at batch 8, 256 (the
     * 14x14 layers then run as one chunk per thread: products of 196 columns) took the model from 170.4 / 171.8 to
     * 162.8 / 162.7 ms against 128, and the five 14x14 3x3 convs from 28.9 to 21.3 ms; 384 the same as 256.
     */
    static final int TARGET_TILES = Integer.getInteger("netslim.winograd.tiles", 256);
    /** The same for F(4x4, 3x3)'s tiles, each 4x the outputs (-Dnetslim.winograd.tiles4). */
    static final int TARGET_TILES4 = Integer.getInteger("netslim.winograd.tiles4", 96);

    /** The automatic rule's least number of 2x2 output tiles per call ({@link #pays}). */
    static final int MIN_TILES = 48;
    /** The automatic rule's least number of 4x4 output tiles per call for F(4x4, 3x3) ({@link #tileSize}). */
    static final int MIN_TILES4 = 196;
    /** U is stored in the micro-kernel's packed A layout: panels of MR output channels. */
    private static final int MR = VectorMicroKernel.MR, NR = VectorMicroKernel.NR;

    private final WorkerPool pool;
    private final VectorMicroKernel kernel = new VectorMicroKernel();
    /** Per-thread buffers: V, M, the packed B panel (Java kernel), the split input rows, the output rows. */
    private final ThreadLocal<Scratch> work = ThreadLocal.withInitial(() -> new Scratch(12));
    private static final int V = 0, M = 1, PB = 2, SPLIT = 3, OUT = 4;
    /** F(4x4, 3x3)'s buffers: the phase-split input rows, Bᵀ d, Aᵀ M, the output row's column phases, their zip. */
    private static final int ROWS4 = 5, BTD4 = 6, MA4 = 7, PHASES4 = 8, ZIP4 = 9;
    /** The weight gradient's buffers: dy's transformed tiles (per thread); the products' sums M (the caller's). */
    private static final int GRAD_U = 10, GRAD_SUMS = 11;

    /** Single-threaded OpenBLAS for the 16 products when the products' GEMM is OpenBLAS; null: the Java kernel. */
    private final OpenBlasGemm blas;

    /**
     * {@code gemm} is the GEMM for the products: with OpenBLAS they are single-threaded {@code cblas_sgemm} calls
     * (U in plain layout); otherwise the Java micro-kernel on U in its packed layout.
     */
    CpuWinograd(WorkerPool pool, Gemm gemm) {
        this.pool = pool;
        this.blas = gemm instanceof OpenBlasGemm ? new OpenBlasGemm(1) : null;
        this.single = blas != null ? blas : new VectorGemm(1);
    }

    /** Single-threaded GEMM of the products' kind, for the weight gradient's products ({@link #weightGradient}). */
    private final Gemm single;

    /** Whether {@link #forward} expects U packed for the Java micro-kernel ({@link #prepared} with packed = true). */
    boolean packed() {
        return blas == null;
    }

    /** 3x3, stride 1, no dilation, one group: the convs F(2x2, 3x3) computes. */
    static boolean eligible(ConvSpec s) {
        return s.kh() == 3 && s.kw() == 3 && s.strideH() == 1 && s.strideW() == 1 && s.dilationH() == 1
                && s.dilationW() == 1 && s.groups() == 1;
    }

    /**
     * Whether this conv, on input {@code x}, should take the Winograd path: {@code -Dnetslim.winograd=on} forces it
     * for every eligible conv, {@code off} never, {@code auto} (default) by shape — see the rule in the body.
     */
    static boolean pays(ConvSpec s, Shape x) {
        if (!eligible(s) || !VectorGemm.VECTOR_BY_DEFAULT) return false; // the transforms are Vector-API code
        String mode = System.getProperty("netslim.winograd", "auto");
        switch (mode) {
            case "off":
            case "false":
                return false;
            case "on":
            case "true":
                return true;
            case "auto":
                break;
            default:
                throw new NetslimException("-Dnetslim.winograd must be auto, on or off, got '" + mode + "'");
        }
        // Measured per layer on GoogLeNet (bench/RESULTS.md, sessions 5 and 6): 1.1–1.6x faster than im2col + GEMM
        // with 64 tiles or more in the call (each of the 16 products then has enough columns), 1.15–1.3x with 49
        // (14x14 maps at batch 1), 0.7–0.9x with 16 and 32 (7x7 maps at batch 1 and 2). 16 channels is the least
        // GoogLeNet has (3a.branch3.1, 16 -> 32: 1.5x faster); fewer were not measured, and there the transforms
        // are a growing share of the work, so they stay on im2col.
        long tiles = (long) x.n() * ((s.outH(x.h()) + 1) / 2) * ((s.outW(x.w()) + 1) / 2);
        return tiles >= MIN_TILES && s.inChannels() >= 16 && s.outChannels() >= 16;
    }

    /**
     * The output tile size for a conv that {@link #pays}: 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)), chosen by
     * {@code -Dnetslim.winograd.tile=auto|2|4} (default auto: by shape, see the rule in the body); 0 when the conv
     * does not take the Winograd path.
     */
    static int tileSize(ConvSpec s, Shape x) {
        if (!pays(s, x)) return 0;
        String mode = System.getProperty("netslim.winograd.tile", "auto");
        switch (mode) {
            case "2":
                return 2;
            case "4":
                return 4;
            case "auto":
                break;
            default:
                throw new NetslimException("-Dnetslim.winograd.tile must be auto, 2 or 4, got '" + mode + "'");
        }
        // Measured per shape (bench/RESULTS.md, session 6; in-process, 2 threads): F(4x4, 3x3) does 1.78x fewer
        // multiply-adds but its transforms cost ~1.5x F(2x2, 3x3)'s per element, so it wins where the products
        // dominate and have enough columns: 1.25–1.4x faster on 56x56 maps from batch 1 and on 28x28 maps at batch 4
        // and 8 (≥ 196 tiles of 4x4), but 0.85–0.9x on 28x28 at batch 1 (49 tiles), ~0.95x on 14x14 maps at batch 8
        // (a 4-tile row fills half a vector; 30 % of each tile cropped) and 0.83x with 16 channels in.
        long tiles4 = (long) x.n() * ((s.outH(x.h()) + 3) / 4) * ((s.outW(x.w()) + 3) / 4);
        boolean f4 = tiles4 >= MIN_TILES4 && s.outW(x.w()) >= 28 && s.inChannels() >= 32 && s.outChannels() >= 32;
        return f4 ? 4 : 2;
    }

    /** G of F(2x2, 3x3) and of F(4x4, 3x3) (Lavin and Gray's interpolation points 0, ±1, ±2 and ∞). */
    private static final double[][] G2 = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    private static final double[][] G4 = {{0.25, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};

    /**
     * U[ξ][k][c] = (G g_kc Gᵀ)[ξ] for the 3x3 kernels of w (K, C, 3, 3) and output tiles of m x m (2 or 4), in
     * double, rounded once; (m + 2)²·K·C floats, ξ = i·(m + 2) + j.
     */
    static float[] transformWeights(float[] w, int off, int k, int c, int m) {
        double[][] g = m == 2 ? G2 : m == 4 ? G4 : null;
        if (g == null) throw new IllegalArgumentException("Winograd output tile must be 2 or 4, got " + m);
        int a = m + 2;
        float[] u = new float[a * a * k * c];
        double[] gw = new double[3 * a];
        for (int o = 0; o < k; o++) {
            for (int i = 0; i < c; i++) kernel(g, w, off + (o * c + i) * 9, gw, u, o * c + i, k * c);
        }
        return u;
    }

    /**
     * One 3x3 kernel (at w[b..b + 9)) transformed, in double: G g (a x 3, into gw), then (G g) Gᵀ, element ξ rounded
     * once into out[ξ·plane + at].
     */
    private static void kernel(double[][] g, float[] w, int b, double[] gw, float[] out, int at, int plane) {
        int a = g.length;
        for (int r = 0; r < a; r++) { // G g: a x 3
            for (int col = 0; col < 3; col++) {
                gw[3 * r + col] = g[r][0] * w[b + col] + g[r][1] * w[b + 3 + col] + g[r][2] * w[b + 6 + col];
            }
        }
        for (int r = 0; r < a; r++) { // (G g) Gᵀ: a x a
            for (int j = 0; j < a; j++) {
                double v = gw[3 * r] * g[j][0] + gw[3 * r + 1] * g[j][1] + gw[3 * r + 2] * g[j][2];
                out[(r * a + j) * plane + at] = (float) v;
            }
        }
    }

    /**
     * U of w for output tiles of m x m as an ((m + 2)², K, C) tensor. Shared by every plan over the same weight array
     * (the embedding API's per-thread plans): cached weakly by the array's identity, and a hit is used only when its
     * copy of the weights still equals w bit for bit (a model whose weights changed gets a fresh transform, never a
     * stale one).
     */
    static Tensor prepared(Tensor w, ConvSpec s, boolean packed, int m) {
        if (!eligible(s)) throw new IllegalArgumentException("prepareConvWeights: not a 3x3 stride-1 conv: " + s);
        int k = s.outChannels(), c = s.inChannels(), size = k * c * 9, a2 = (m + 2) * (m + 2);
        float[] wd = w.data();
        int off = w.offset();
        return CACHE.get(wd, p -> p.offset == off && p.packed == packed && p.m == m && p.weights.length == size
                        && java.util.Arrays.equals(wd, off, off + size, p.weights, 0, size),
                q -> q.offset == off && q.packed == packed && q.m == m, // a stale transform of the same weights goes
                () -> {
                    float[] u = transformWeights(wd, off, k, c, m);
                    return new Prepared(off, packed, m, java.util.Arrays.copyOfRange(wd, off, off + size), packed
                            ? Tensor.of(Shape.of(a2, BlockedGemm.roundUp(k, MR), c), pack(u, k, c))
                            : Tensor.of(Shape.of(a2, k, c), u));
                }).u;
    }

    private record Prepared(int offset, boolean packed, int m, float[] weights, Tensor u) {
    }

    /**
     * {@link #prepared} without the cache, for weights that change from call to call (training: a cached transform
     * would be stale after every SGD step, and checking it costs a copy of the weights): the transform in this
     * instance's layout written into the caller's buffer {@code slot} of {@code scratch}, both threads over the
     * output channels. Allocating the 1–10 MB result per call instead cost more than the conv on GoogLeNet's 7x7 and
     * 14x14 maps (zeroing and page faults).
     */
    Tensor transformed(Tensor w, ConvSpec s, int m, Scratch scratch, int slot) {
        return transformed(w, s, m, scratch, slot, false);
    }

    /**
     * {@link #transformed} of the turned weights of the conv whose input gradient s is (s: C outputs from K inputs),
     * read straight from that conv's own weights w (K x C x 3 x 3): kernel (o, i) of the turned conv is kernel (i, o)
     * of w rotated by 180°. No turned copy is made.
     */
    Tensor transformedTurned(Tensor w, ConvSpec s, int m, Scratch scratch, int slot) {
        return transformed(w, s, m, scratch, slot, true);
    }

    private Tensor transformed(Tensor w, ConvSpec s, int m, Scratch scratch, int slot, boolean turned) {
        if (!eligible(s)) throw new IllegalArgumentException("Winograd: not a 3x3 stride-1 conv: " + s);
        int k = s.outChannels(), c = s.inChannels(), a2 = (m + 2) * (m + 2);
        int kp = packed() ? BlockedGemm.roundUp(k, MR) : k;
        float[] u = scratch.get(slot, a2 * kp * c);
        transformInto(pool, w.data(), w.offset(), k, c, m, packed(), u, turned);
        return new Tensor(Shape.of(a2, kp, c), new netslim.tensor.HostStorage(u), 0);
    }

    /**
     * Offset in w of tap t of kernel (o, i) of a conv with k outputs and c inputs: w's own kernel, or, turned, where
     * w holds the c x k x 3 x 3 weights of the conv whose input gradient this conv computes, kernel (i, o) of w
     * rotated by 180° (tap 8 − t).
     */
    private static int tap(int off, int k, int c, int o, int i, int t, boolean turned) {
        return turned ? off + (i * k + o) * 9 + 8 - t : off + (o * c + i) * 9 + t;
    }

    /** Kernel (o, i)'s 9 taps into taps[0, 9) (see {@link #tap}). */
    private static void taps(float[] w, int off, int k, int c, int o, int i, boolean turned, float[] taps) {
        for (int t = 0; t < 9; t++) taps[t] = w[tap(off, k, c, o, i, t, turned)];
    }

    /**
     * {@link #transformWeights}, then {@link #pack} when packed, in one pass straight into out (rows past K zeroed),
     * in parallel over output channels. Packed in 8-row panels with 16-lane vectors (AVX-512): {@link
     * #transformPanels}, in float vectors; otherwise the same double arithmetic as {@link #transformWeights}, so the same floats.
     */
    static void transformInto(WorkerPool pool, float[] w, int off, int k, int c, int m, boolean packed, float[] out) {
        transformInto(pool, w, off, k, c, m, packed, out, false);
    }

    /** {@link #transformInto}; turned: of the turned weights, read from w as {@link #tap} says. */
    static void transformInto(WorkerPool pool, float[] w, int off, int k, int c, int m, boolean packed, float[] out,
                              boolean turned) {
        double[][] g = m == 2 ? G2 : m == 4 ? G4 : null;
        if (g == null) throw new IllegalArgumentException("Winograd output tile must be 2 or 4, got " + m);
        if (packed && MR == 8 && PANEL_PAIRS && PANELS_IN_VECTORS) {
            transformPanels(pool, w, off, k, c, m, out, turned);
            return;
        }
        int a = m + 2, kp = packed ? BlockedGemm.roundUp(k, MR) : k;
        pool.parallelFor(kp, MR, (o0, o1) -> {
            double[] gw = new double[3 * a];
            float[] nine = new float[9];
            for (int o = o0; o < o1; o++) {
                int base = packed ? o / MR * MR * c + o % MR : o * c, step = packed ? MR : 1;
                for (int i = 0; i < c; i++) {
                    int at = base + i * step;
                    if (o >= k) { // padding rows of the last panel
                        for (int xi = 0; xi < a * a; xi++) out[xi * kp * c + at] = 0f;
                        continue;
                    }
                    taps(w, off, k, c, o, i, turned, nine);
                    kernel(g, nine, 0, gw, out, at, kp * c);
                }
            }
        });
    }

    /** -Dnetslim.winograd.vectorTransform=false: the per-call transform in scalar double ({@link #transformInto}). */
    static final boolean PANELS_IN_VECTORS = Boolean.parseBoolean(
            System.getProperty("netslim.winograd.vectorTransform", "true"));
    /**
     * Two input channels of an 8-row panel are 16 consecutive floats of the packed layout: one vector of the preferred
     * 512-bit species. (A 256-bit species here, one channel per vector, made the whole training step 1.4x slower:
     * a second float species in the process spoils the JIT's profiles of the Vector API's shared code, and other
     * kernels' vectors get boxed.)
     */
    static final boolean PANEL_PAIRS = S.length() == 16;
    private static final float[] G2F = floats(G2), G4F = floats(G4);

    private static float[] floats(double[][] g) {
        float[] f = new float[g.length * 3];
        for (int r = 0; r < g.length; r++) for (int q = 0; q < 3; q++) f[3 * r + q] = (float) g[r][q];
        return f;
    }

    /**
     * U = G g Gᵀ into the 8-row packed layout with two input channels of a panel (16 kernels) in the lanes of one
     * vector: their 9 taps gathered into 9 vectors, G g (a x 3) and then (G g) Gᵀ (a x a) as 3-term sums of vectors,
     * each of the a² results the 16 consecutive floats the packed layout wants; an odd last channel in scalar double.
     * Float arithmetic (within a few ulps of the serving plan's double transform); GoogLeNet's 384x192 weights on 2
     * threads: 0.48 ms against 2.3 for the scalar double loop (F(2x2)), 0.93 against 4.8 (F(4x4)).
     */
    static void transformPanels(WorkerPool pool, float[] w, int off, int k, int c, int m, float[] out) {
        transformPanels(pool, w, off, k, c, m, out, false);
    }

    /** {@link #transformPanels}; turned: of the turned weights, read from w as {@link #tap} says. */
    static void transformPanels(WorkerPool pool, float[] w, int off, int k, int c, int m, float[] out,
                                boolean turned) {
        if (!PANEL_PAIRS) throw new IllegalStateException("transformPanels needs 16-lane float vectors");
        int a = m + 2, kp = BlockedGemm.roundUp(k, 8), plane = kp * c;
        float[] gf = m == 2 ? G2F : G4F;
        double[][] gd = m == 2 ? G2 : G4;
        pool.parallelFor(kp / 8, 1, (p0, p1) -> {
            float[] taps = new float[9 * 16], gg = new float[3 * a * 16], nine = new float[9];
            double[] gw = new double[3 * a];
            for (int panel = p0; panel < p1; panel++) {
                int i = 0;
                for (; i + 1 < c; i += 2) {
                    for (int lane = 0; lane < 16; lane++) {
                        int o = panel * 8 + (lane & 7), il = i + (lane >> 3);
                        for (int t = 0; t < 9; t++) taps[t * 16 + lane] = o < k ? w[tap(off, k, c, o, il, t, turned)] : 0f;
                    }
                    for (int rr = 0; rr < a; rr++) { // G g: row rr, column col = Σ_p G[rr][p]·g[p][col]
                        float g0 = gf[3 * rr], g1 = gf[3 * rr + 1], g2 = gf[3 * rr + 2];
                        for (int col = 0; col < 3; col++) {
                            FloatVector.fromArray(S, taps, col * 16).mul(g0)
                                    .add(FloatVector.fromArray(S, taps, (3 + col) * 16).mul(g1))
                                    .add(FloatVector.fromArray(S, taps, (6 + col) * 16).mul(g2))
                                    .intoArray(gg, (3 * rr + col) * 16);
                        }
                    }
                    int dst = panel * 8 * c + i * 8;
                    for (int rr = 0; rr < a; rr++) { // (G g) Gᵀ: element (rr, j) = Σ_q (G g)[rr][q]·G[j][q]
                        for (int j = 0; j < a; j++) {
                            FloatVector.fromArray(S, gg, 3 * rr * 16).mul(gf[3 * j])
                                    .add(FloatVector.fromArray(S, gg, (3 * rr + 1) * 16).mul(gf[3 * j + 1]))
                                    .add(FloatVector.fromArray(S, gg, (3 * rr + 2) * 16).mul(gf[3 * j + 2]))
                                    .intoArray(out, (rr * a + j) * plane + dst);
                        }
                    }
                }
                for (; i < c; i++) { // an odd last channel
                    for (int r = 0; r < 8; r++) {
                        int o = panel * 8 + r, at = panel * 8 * c + i * 8 + r;
                        if (o >= k) {
                            for (int xi = 0; xi < a * a; xi++) out[xi * plane + at] = 0f;
                            continue;
                        }
                        taps(w, off, k, c, o, i, turned, nine);
                        kernel(gd, nine, 0, gw, out, at, plane);
                    }
                }
            }
        });
    }

    /** Per weight array (identity, weakly): its transforms, each with its own copy of the weights it came from. */
    private static final netslim.tensor.DerivedCache<Prepared> CACHE = new netslim.tensor.DerivedCache<>();

    /**
     * U[ξ] (K x C, from {@link #transformWeights}) in the micro-kernel's packed A layout: per ξ, panels of MR rows
     * (output channels), element (i, c) of panel q at (ξ·Kp + q·MR)·C + c·MR + i; rows past K are zero. Kp = K
     * rounded up to MR.
     */
    static float[] pack(float[] u, int k, int c) {
        int kp = BlockedGemm.roundUp(k, MR), a2 = u.length / (k * c);
        float[] packed = new float[a2 * kp * c];
        for (int xi = 0; xi < a2; xi++) {
            for (int o = 0; o < k; o++) {
                int panel = (xi * kp + o / MR * MR) * c, i = o % MR;
                for (int ch = 0; ch < c; ch++) packed[panel + ch * MR + i] = u[(xi * k + o) * c + ch];
            }
        }
        return packed;
    }

    /**
     * The geometry of one call: output tiles of m x m, th x tw of them per image; yc the channels of the tensor y is
     * written into (k, or more when y is a concat's buffer: see forward).
     */
    private record Plan(int n, int c, int k, int yc, int h, int w, int oh, int ow, int padH, int padW, int m, int th,
                        int tw) {
        int tileRows() {
            return n * th;
        }

        /** Transformed elements per tile, (m + 2)². */
        int a2() {
            return (m + 2) * (m + 2);
        }
    }

    /**
     * y = conv(x, w) + bias, then max(0, ·) when relu, with u = {@link #prepared} of w in this instance's layout; the
     * output tile size (2 or 4) is u's: 16 or 36 transformed weights per kernel.
     */
    void forward(Tensor x, Tensor u, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        forward(x, u, bias, y, 0, s, relu);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, Tensor, ConvSpec, boolean)} into channels [c0, c0 + K) of y, which may
     * have more channels than the conv has outputs (a concat's buffer at batch > 1, where that slice is not one
     * contiguous range).
     */
    void forward(Tensor x, Tensor u, Tensor bias, Tensor y, int c0, ConvSpec s, boolean relu) {
        forward(x, u, bias, y, c0, s, relu, false);
    }

    /**
     * {@link #forward(Tensor, Tensor, Tensor, Tensor, int, ConvSpec, boolean)}, the outputs added into y's elements
     * when {@code add} (y += the conv, after bias and ReLU if asked) instead of written: an input gradient added
     * into dx in the output transform's last pass, with no scratch tensor and no second pass over dx.
     */
    void forward(Tensor x, Tensor u, Tensor bias, Tensor y, int c0, ConvSpec s, boolean relu, boolean add) {
        if (!eligible(s)) throw new IllegalArgumentException("conv2dPrepared: not a 3x3 stride-1 conv: " + s);
        ShapeChecks.requireRank(x, 4, "conv2dPrepared", "x");
        Shape xs = x.shape();
        if (xs.c() != s.inChannels()) ShapeChecks.fail("conv2dPrepared", "x " + xs + " does not match " + s);
        int k = s.outChannels(), c = s.inChannels();
        ShapeChecks.requireRank(u, 3, "conv2dPrepared", "u");
        int a2 = u.shape().dim(0), m = a2 == 16 ? 2 : a2 == 36 ? 4 : 0;
        if (m == 0) {
            ShapeChecks.fail("conv2dPrepared", "u " + u.shape() + " is neither F(2x2, 3x3) (16, K, C) nor "
                    + "F(4x4, 3x3) (36, K, C)");
        }
        ShapeChecks.requireShape(u, "conv2dPrepared", "u", a2, packed() ? BlockedGemm.roundUp(k, MR) : k, c);
        int oh = s.outH(xs.h()), ow = s.outW(xs.w());
        ShapeChecks.requireRank(y, 4, "conv2dPrepared", "y");
        int yc = y.shape().c();
        if (!(c0 >= 0 && c0 + k <= yc)) {
            ShapeChecks.fail("conv2dPrepared", "channels [" + c0 + ", " + (c0 + k)
                    + ") do not fit y " + y.shape());
        }
        ShapeChecks.requireShape(y, "conv2dPrepared", "y", xs.n(), yc, oh, ow);
        if (bias != null) ShapeChecks.requireShape(bias, "conv2dPrepared", "bias", k);
        Plan p = new Plan(xs.n(), c, k, yc, xs.h(), xs.w(), oh, ow, s.padH(), s.padW(), m, (oh + m - 1) / m,
                (ow + m - 1) / m);
        int rows = p.tileRows();
        int target = m == 2 ? TARGET_TILES : TARGET_TILES4;
        int perChunk = Math.max(1, Math.round((float) target / p.tw()));
        perChunk = Math.min(perChunk, (rows + pool.threads() - 1) / pool.threads()); // every thread gets work
        int rowsPerChunk = perChunk, chunks = (rows + perChunk - 1) / perChunk;
        float[] xd = x.data(), ud = u.data(), yd = y.data(), bd = bias == null ? null : bias.data();
        int xo = x.offset(), uo = u.offset(), yo = y.offset() + c0 * oh * ow, bo = bias == null ? 0 : bias.offset();
        pool.parallelFor(chunks, 1, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int r0 = q * rowsPerChunk, r1 = Math.min(rows, r0 + rowsPerChunk);
                chunk(p, r0, r1, xd, xo, ud, uo, bd, bo, yd, yo, relu, add);
            }
        });
    }

    private void chunk(Plan p, int r0, int r1, float[] x, int xo, float[] u, int uo, float[] bias, int bo,
                       float[] y, int yo, boolean relu, boolean add) {
        Scratch wk = work.get();
        int tc = (r1 - r0) * p.tw(), c = p.c(), a2 = p.a2();
        // Java kernel: M has Kp rows and tcp columns (whole MR x NR tiles); OpenBLAS: exactly K x tc.
        int tcp = packed() ? BlockedGemm.roundUp(tc, NR) : tc, kp = packed() ? BlockedGemm.roundUp(p.k(), MR) : p.k();
        int ld = tc + L; // the last vector of a tile row may write up to L − 1 lanes past the chunk
        int ldm = tcp + L; // the output transform reads up to L − 1 lanes past the last tile
        float[] v = wk.get(V, a2 * c * ld);
        float[] m = wk.get(M, a2 * kp * ldm); // V[ξ][c][t] and M[ξ][k][t]: rows ld and ldm apart
        // F(2x2): TW + 1 columns read per row, vector loads up to one vector past the end; the split input rows are 4
        // row slots x even / odd, the output rows 2 rows x even / odd, span floats each.
        int span = BlockedGemm.roundUp(p.tw(), L) + L + 1;
        if (p.m() == 2) {
            inputTransform(p, r0, r1, x, xo, v, ld, wk.get(SPLIT, 8 * span), span);
        } else {
            inputTransform4(p, r0, r1, x, xo, v, ld, wk);
        }
        if (blas != null) {
            for (int xi = 0; xi < a2; xi++) {
                blas.sgemm(false, false, kp, tc, c, 1f, u, uo + xi * kp * c, c, v, xi * c * ld, ld, 0f,
                        m, xi * kp * ldm, ldm);
            }
        } else {
            float[] pb = wk.get(PB, tcp * c);
            for (int xi = 0; xi < a2; xi++) {
                packB(v, xi * c * ld, ld, c, tc, tcp, pb);
                product(u, uo + xi * kp * c, kp, c, pb, tcp, m, xi * kp * ldm, ldm);
            }
        }
        if (p.m() == 2) {
            outputTransform(p, r0, r1, m, ldm, kp, bias, bo, y, yo, relu, add, wk.get(OUT, 4 * span), span);
        } else {
            outputTransform4(p, r0, r1, m, ldm, kp, bias, bo, y, yo, relu, add, wk);
        }
    }

    /**
     * M (kp x tcp at {@code mAt}, row stride ldm) = U[ξ] (packed, at uAt) · the packed B panels, in full MR x NR
     * tiles (M's padding rows and columns are never read). B micro-panel (C x NR, from L1/L2) outer, U's row panels
     * (from L2) inner.
     */
    private void product(float[] u, int uAt, int kp, int c, float[] pb, int tcp, float[] m, int mAt, int ldm) {
        for (int jp = 0; jp < tcp; jp += NR) {
            for (int ir = 0; ir < kp; ir += MR) {
                kernel.run(c, u, uAt + ir * c, 1, MR, 1f, pb, jp * c, 0f, m, mAt + ir * ldm + jp, ldm);
            }
        }
    }

    /**
     * V[ξ] (C x tc at {@code at}, row stride ld) into panels of NR columns: element (c, j) of panel q at
     * q·NR·C + c·NR + j; columns past tc are zero.
     */
    private static void packB(float[] v, int at, int ld, int c, int tc, int tcp, float[] pb) {
        for (int jp = 0; jp < tcp; jp += NR) {
            int cols = Math.min(NR, tc - jp), base = jp * c;
            if (cols == NR) {
                for (int ch = 0; ch < c; ch++) {
                    int src = at + ch * ld + jp, dst = base + ch * NR;
                    FloatVector.fromArray(S, v, src).intoArray(pb, dst);
                    FloatVector.fromArray(S, v, src + L).intoArray(pb, dst + L);
                }
            } else {
                for (int ch = 0; ch < c; ch++) {
                    int src = at + ch * ld + jp, dst = base + ch * NR;
                    for (int j = 0; j < NR; j++) pb[dst + j] = j < cols ? v[src + j] : 0f;
                }
            }
        }
    }

    /**
     * V[ξ][c][t] = (Bᵀ d B)[ξ] for the tiles t of tile rows [r0, r1),
     * Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]].
     * The four input rows of a tile row sit in four slots of {@code sp} as even / odd columns; the next tile row of
     * the same image reuses the last two (tile rows overlap by two input rows), so each row is split once.
     */
    private static void inputTransform(Plan p, int r0, int r1, float[] x, int xo, float[] v, int ld, float[] sp,
                                       int span) {
        inputTransform(p, r0, r1, x, xo, v, ld, sp, span, 0, 4, 0, p.c());
    }

    /**
     * {@link #inputTransform} for the rows [from, to) of Bᵀ d B only (ξ in [4·from, 4·to)), stored from v[0] on
     * (ξ − 4·from), and the channels [c0, c1) only.
     */
    private static void inputTransform(Plan p, int r0, int r1, float[] x, int xo, float[] v, int ld, float[] sp,
                                       int span, int from, int to, int c0, int c1) {
        int tw = p.tw(), plane = p.h() * p.w(), step = p.c() * ld; // V[ξ] planes are step apart
        int[] slot = new int[4];
        for (int c = c0; c < c1; c++) {
            int prevImage = -1;
            for (int r = r0; r < r1; r++) {
                int n = r / p.th(), ty = r % p.th();
                int base = xo + (n * p.c() + c) * plane, iy0 = 2 * ty - p.padH();
                if (n != prevImage) { // first tile row of this image in the chunk: split all four rows
                    for (int i = 0; i < 4; i++) {
                        slot[i] = 2 * i * span;
                        splitRow(x, base, p, iy0 + i, sp, slot[i], span, tw + 1);
                    }
                    prevImage = n;
                } else { // rows 2, 3 of the previous tile row are rows 0, 1 of this one
                    reuseRows(slot);
                    splitRow(x, base, p, iy0 + 2, sp, slot[2], span, tw + 1);
                    splitRow(x, base, p, iy0 + 3, sp, slot[3], span, tw + 1);
                }
                int t0 = (r - r0) * tw;
                for (int tx = 0; tx < tw; tx += L) {
                    tiles(sp, slot[0] + tx, slot[1] + tx, slot[2] + tx, slot[3] + tx, span, v, c * ld + t0 + tx, step,
                            from, to);
                }
            }
        }
    }

    /**
     * The next tile row of the same image: tile rows overlap by the kernel's 3 − 1 = 2 input rows, so the previous
     * tile row's last two row slots become the first two and the others (refilled by the caller) follow.
     */
    private static void reuseRows(int[] slot) {
        int a = slot.length, last0 = slot[a - 2], last1 = slot[a - 1];
        System.arraycopy(slot, 0, slot, 2, a - 2);
        slot[0] = last0;
        slot[1] = last1;
    }

    /**
     * Rows [from, to) of Bᵀ d B for L neighbouring tiles whose input rows' even columns start at a0..a3 in sp (odd
     * ones span later), element ξ stored at v[at + (ξ − 4·from)·step]: Bᵀ d is w0 = d0 − d2, w1 = d1 + d2,
     * w2 = d2 − d1, w3 = d1 − d3, one {@link #tileRow} each. The forward takes all four rows; the weight gradient's
     * threads two each.
     */
    private static void tiles(float[] sp, int a0, int a1, int a2, int a3, int span, float[] v, int at, int step,
                              int from, int to) {
        int out = at - 4 * from * step;
        if (from <= 0 && 0 < to) tileRow(sp, a0, a2, true, span, v, out, step);
        if (from <= 1 && 1 < to) tileRow(sp, a1, a2, false, span, v, out + 4 * step, step);
        if (from <= 2 && 2 < to) tileRow(sp, a2, a1, true, span, v, out + 8 * step, step);
        if (from <= 3 && 3 < to) tileRow(sp, a1, a3, true, span, v, out + 12 * step, step);
    }

    /**
     * One row of Bᵀ d B: w = d_p − d_q (or d_p + d_q) by columns (c0 = even, c1 = odd, c2 = even shifted by one
     * tile, c3 = odd shifted), then w B = (c0 − c2, c1 + c2, c2 − c1, c1 − c3) at v[at + j·step]. Small on purpose:
     * the Vector API is fast only when C2 inlines every vector op, and a method with all 16 outputs (or a helper
     * taking vectors) was not fully inlined (JFR showed FloatVector.intoArray and the ops' Java fallbacks as hot
     * frames, 7 ns per input element).
     */
    private static void tileRow(float[] sp, int p, int q, boolean subtract, int span, float[] v, int at, int step) {
        FloatVector pe = FloatVector.fromArray(S, sp, p), pe1 = FloatVector.fromArray(S, sp, p + 1);
        FloatVector po = FloatVector.fromArray(S, sp, p + span), po1 = FloatVector.fromArray(S, sp, p + span + 1);
        FloatVector qe = FloatVector.fromArray(S, sp, q), qe1 = FloatVector.fromArray(S, sp, q + 1);
        FloatVector qo = FloatVector.fromArray(S, sp, q + span), qo1 = FloatVector.fromArray(S, sp, q + span + 1);
        FloatVector c0, c1, c2, c3;
        if (subtract) {
            c0 = pe.sub(qe);
            c1 = po.sub(qo);
            c2 = pe1.sub(qe1);
            c3 = po1.sub(qo1);
        } else {
            c0 = pe.add(qe);
            c1 = po.add(qo);
            c2 = pe1.add(qe1);
            c3 = po1.add(qo1);
        }
        c0.sub(c2).intoArray(v, at);
        c1.add(c2).intoArray(v, at + step);
        c2.sub(c1).intoArray(v, at + 2 * step);
        c1.sub(c3).intoArray(v, at + 3 * step);
    }

    /**
     * Input row {@code iy} of a plane as its columns 2j − padW (into sp[even + j]) and 2j + 1 − padW (into
     * sp[even + span + j]), j in [0, count); zero outside the image, and for one vector past count.
     */
    private static void splitRow(float[] x, int plane, Plan p, int iy, float[] sp, int even, int span, int count) {
        int odd = even + span;
        if (iy < 0 || iy >= p.h()) {
            java.util.Arrays.fill(sp, even, even + count + L, 0f); // a padding row
            java.util.Arrays.fill(sp, odd, odd + count + L, 0f);
            return;
        }
        int row = plane + iy * p.w(), w = p.w(), pad = p.padW();
        if (count <= L && SHORT_ROWS && row - pad >= 0 && row - pad + 2 * L <= x.length) {
            // A row of at most L column pairs (maps up to 30 wide, where the vector loop below never runs): the
            // window from column −pad, its padding, the next row and pairs past the count read as zero.
            EvenOdd.splitWindow(x, row - pad, pad, Math.min(pad + w, 2 * count), sp, even, sp, odd);
            ZERO.intoArray(sp, even + L);
            ZERO.intoArray(sp, odd + L);
            return;
        }
        // Interior [lo, hi): both 2j − pad and 2j + 1 − pad inside [0, w).
        int lo = Math.min(count, (pad + 1) / 2);
        int hi = Math.max(lo, Math.min(count, (w + pad) / 2));
        for (int j = 0; j < lo; j++) splitOne(x, row, w, pad, sp, even, odd, j);
        int j = lo;
        if (hi - lo >= L) { // L pairs per step (EvenOdd); the last step overlaps the one before
            for (; ; j += L) {
                if (j + L > hi) j = hi - L;
                int src = row + 2 * j - pad;
                EvenOdd.split(x, src, sp, even + j, sp, odd + j);
                if (j + L == hi) break;
            }
            j = hi;
        }
        for (; j < hi; j++) {
            int src = row + 2 * j - pad;
            sp[even + j] = x[src];
            sp[odd + j] = x[src + 1];
        }
        for (j = hi; j < count; j++) splitOne(x, row, w, pad, sp, even, odd, j);
        ZERO.intoArray(sp, even + count);
        ZERO.intoArray(sp, odd + count);
    }

    private static final FloatVector ZERO = FloatVector.zero(S);

    /** -Dnetslim.winograd.shortRows=false: rows of at most L pairs split element by element. Not final: probes. */
    static boolean SHORT_ROWS = !"false".equals(System.getProperty("netslim.winograd.shortRows"));

    /** F(4x4, 3x3)'s transform coefficients as vectors (for fma). */
    private static final FloatVector FOUR = FloatVector.broadcast(S, 4f), MINUS_FIVE = FloatVector.broadcast(S, -5f),
            MINUS_FOUR = FloatVector.broadcast(S, -4f), TWO = FloatVector.broadcast(S, 2f),
            EIGHT = FloatVector.broadcast(S, 8f);


    private static void splitOne(float[] x, int row, int w, int pad, float[] sp, int even, int odd, int j) {
        int xe = 2 * j - pad, xo = xe + 1;
        sp[even + j] = xe >= 0 && xe < w ? x[row + xe] : 0f;
        sp[odd + j] = xo >= 0 && xo < w ? x[row + xo] : 0f;
    }

    /**
     * y = Aᵀ M A (+ bias, then ReLU) for the tiles of tile rows [r0, r1), Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]],
     * written into NCHW with the last row / column dropped where the output size is odd.
     */
    private static void outputTransform(Plan p, int r0, int r1, float[] m, int ld, int mRows, float[] bias, int bo,
                                        float[] y, int yo, boolean relu, boolean add, float[] out, int span) {
        int tw = p.tw(), step = mRows * ld, oplane = p.oh() * p.ow();
        for (int k = 0; k < p.k(); k++) {
            float b = bias == null ? 0f : bias[bo + k];
            for (int r = r0; r < r1; r++) {
                int n = r / p.th(), ty = r % p.th();
                int t0 = (r - r0) * tw;
                for (int tx = 0; tx < tw; tx += L) {
                    tilesOut(m, k * ld + t0 + tx, step, b, bias != null, relu, out, tx, span);
                }
                int plane = yo + (n * p.yc() + k) * oplane;
                int oy = 2 * ty;
                interleave(out, 0, span, y, plane + oy * p.ow(), p.ow(), add);
                if (oy + 1 < p.oh()) interleave(out, 2 * span, 3 * span, y, plane + (oy + 1) * p.ow(), p.ow(), add);
            }
        }
    }

    /**
     * Aᵀ M A for L neighbouring tiles (M[ξ] at m[at + ξ·step]), Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]: the tiles'
     * output row 0 as even / odd columns at out[tx], out[span + tx], row 1 at out[2·span + tx], out[3·span + tx].
     * One output row per call, for the reason given at {@link #tileRow}.
     */
    private static void tilesOut(float[] m, int at, int step, float b, boolean addBias, boolean relu, float[] out,
                                 int tx, int span) {
        outRow(m, at, step, false, b, addBias, relu, out, tx, span);
        outRow(m, at, step, true, b, addBias, relu, out, 2 * span + tx, span);
    }

    /**
     * Output row 0 (r_j = m0j + m1j + m2j) or row 1 (r_j = m1j − m2j − m3j) of L tiles, then the columns
     * (r0 + r1 + r2, r1 − r2 − r3), plus bias, ReLU; stored at out[o] (even) and out[o + span] (odd).
     */
    private static void outRow(float[] m, int at, int step, boolean second, float b, boolean addBias, boolean relu,
                               float[] out, int o, int span) {
        int base = second ? at + 4 * step : at; // row 0 starts from m0j, row 1 from m1j
        FloatVector r0 = FloatVector.fromArray(S, m, base), r1 = FloatVector.fromArray(S, m, base + step);
        FloatVector r2 = FloatVector.fromArray(S, m, base + 2 * step), r3 = FloatVector.fromArray(S, m, base + 3 * step);
        FloatVector n0 = FloatVector.fromArray(S, m, base + 4 * step), n1 = FloatVector.fromArray(S, m, base + 5 * step);
        FloatVector n2 = FloatVector.fromArray(S, m, base + 6 * step), n3 = FloatVector.fromArray(S, m, base + 7 * step);
        FloatVector f0 = FloatVector.fromArray(S, m, base + 8 * step), f1 = FloatVector.fromArray(S, m, base + 9 * step);
        FloatVector f2 = FloatVector.fromArray(S, m, base + 10 * step), f3 = FloatVector.fromArray(S, m, base + 11 * step);
        if (second) { // m1j − m2j − m3j
            r0 = r0.sub(n0).sub(f0);
            r1 = r1.sub(n1).sub(f1);
            r2 = r2.sub(n2).sub(f2);
            r3 = r3.sub(n3).sub(f3);
        } else { // m0j + m1j + m2j
            r0 = r0.add(n0).add(f0);
            r1 = r1.add(n1).add(f1);
            r2 = r2.add(n2).add(f2);
            r3 = r3.add(n3).add(f3);
        }
        FloatVector even = r0.add(r1).add(r2), odd = r1.sub(r2).sub(r3);
        if (addBias) {
            even = even.add(b);
            odd = odd.add(b);
        }
        if (relu) {
            even = even.max(0f);
            odd = odd.max(0f);
        }
        even.intoArray(out, o);
        odd.intoArray(out, o + span);
    }

    /**
     * y[at + 2j] = out[even + j], y[at + 2j + 1] = out[odd + j] for the first {@code width} columns; added into y
     * when {@code add} ({@link #interleaveAdd}).
     */
    private static void interleave(float[] out, int even, int odd, float[] y, int at, int width, boolean add) {
        if (add) {
            interleaveAdd(out, even, odd, y, at, width);
            return;
        }
        int pairs = width / 2, j = 0;
        if (pairs >= L) { // 2L outputs a step, the last step overlapping the one before
            for (; ; j += L) {
                if (j + L > pairs) j = pairs - L;
                EvenOdd.zip(out, even + j, out, odd + j, y, at + 2 * j);
                if (j + L == pairs) break;
            }
            j = pairs;
        }
        for (; j < pairs; j++) {
            y[at + 2 * j] = out[even + j];
            y[at + 2 * j + 1] = out[odd + j];
        }
        if ((width & 1) != 0) y[at + width - 1] = out[even + pairs];
    }

    /**
     * {@link #interleave} adding into y: whole vectors of pairs, then the rest one element at a time (no overlapping
     * last vector, which would add its lanes twice).
     */
    private static void interleaveAdd(float[] out, int even, int odd, float[] y, int at, int width) {
        int pairs = width / 2, j = 0;
        for (; j + L <= pairs; j += L) EvenOdd.zipAdd(out, even + j, out, odd + j, y, at + 2 * j);
        for (; j < pairs; j++) {
            y[at + 2 * j] += out[even + j];
            y[at + 2 * j + 1] += out[odd + j];
        }
        if ((width & 1) != 0) y[at + width - 1] += out[even + pairs];
    }

    // ---- F(4x4, 3x3): 6x6 input tiles 4 apart, 36 products per 16 outputs (4x fewer than im2col's 144) ----

    /**
     * V[ξ][c][t] = (Bᵀ d B)[ξ] for the 6x6 input tiles d of tile rows [r0, r1), ξ = 6i + j, with
     * Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0], [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0],
     * [0, 4, 0, −5, 0, 1]]. Each input row is split once into its four column phases (x mod 4), so a tile's six
     * columns are phases 0–3 at its index and phases 0–1 at the next; Bᵀ d then runs on whole phase rows (vertical)
     * and · B across L neighbouring tiles (horizontal), both as {@link #bt6}. Tile rows overlap by two input rows,
     * which the next tile row of the same image reuses.
     */
    private static void inputTransform4(Plan p, int r0, int r1, float[] x, int xo, float[] v, int ld, Scratch wk) {
        inputTransform4(p, r0, r1, x, xo, v, ld, wk, 0, 6, 0, p.c());
    }

    /**
     * {@link #inputTransform4} for the rows [from, to) of Bᵀ d B only (ξ in [6·from, 6·to)), stored from v[0] on
     * (ξ − 6·from), and the channels [c0, c1) only: the weight gradient's threads take a share of the rows (Bᵀ d, the
     * vertical half, whole in each) or of the channels ({@link #sharedChunks}).
     */
    private static void inputTransform4(Plan p, int r0, int r1, float[] x, int xo, float[] v, int ld, Scratch wk,
                                        int from, int to, int c0, int c1) {
        int tw = p.tw(), plane = p.h() * p.w(), step = p.c() * ld; // V[ξ] planes are step apart
        int cols = tw + 1; // phase columns per row: tile t reads phase columns t and t + 1
        int ps = BlockedGemm.roundUp(cols, L) + L; // one phase row
        int span2 = BlockedGemm.roundUp(2 * cols, 2 * L) + 2 * L; // one half of a row split into even / odd
        float[] sp = wk.get(SPLIT, 2 * span2), rows = wk.get(ROWS4, 24 * ps), btd = wk.get(BTD4, 24 * ps);
        int[] slot = new int[6];
        for (int c = c0; c < c1; c++) {
            int prevImage = -1;
            for (int r = r0; r < r1; r++) {
                int n = r / p.th(), ty = r % p.th();
                int base = xo + (n * p.c() + c) * plane, iy0 = 4 * ty - p.padH();
                if (n != prevImage) { // first tile row of this image in the chunk: all six rows
                    for (int i = 0; i < 6; i++) {
                        slot[i] = 4 * i * ps;
                        phaseRow(x, base, p, iy0 + i, sp, span2, rows, slot[i], ps, cols);
                    }
                    prevImage = n;
                } else { // rows 4, 5 of the previous tile row are rows 0, 1 of this one
                    reuseRows(slot);
                    for (int i = 2; i < 6; i++) phaseRow(x, base, p, iy0 + i, sp, span2, rows, slot[i], ps, cols);
                }
                for (int j = 0; j < 4 * ps; j += L) { // Bᵀ d, row i of it at btd[4·i·ps], phases ps apart
                    bt6(rows, slot[0] + j, slot[1] + j, slot[2] + j, slot[3] + j, slot[4] + j, slot[5] + j, btd, j,
                            4 * ps);
                }
                int t0 = c * ld + (r - r0) * tw;
                for (int i = from; i < to; i++) { // (Bᵀ d) B: columns phase 0..3 at t, phase 0, 1 at t + 1
                    int b = 4 * i * ps, vi = t0 + 6 * (i - from) * step;
                    for (int tx = 0; tx < tw; tx += L) {
                        int a = b + tx;
                        bt6(btd, a, a + ps, a + 2 * ps, a + 3 * ps, a + 1, a + ps + 1, v, vi + tx, step);
                    }
                }
            }
        }
    }

    /**
     * Input row iy as its four column phases: rows[at + φ·ps + j] = x[iy][4j + φ − padW] for j in [0, cols), zero
     * outside the image; via the even / odd split of {@link #splitRow}, each half split again.
     */
    private static void phaseRow(float[] x, int plane, Plan p, int iy, float[] sp, int span2, float[] rows, int at,
                                 int ps, int cols) {
        int pairs = 2 * cols;
        splitRow(x, plane, p, iy, sp, 0, span2, pairs);
        java.util.Arrays.fill(sp, pairs, span2, 0f); // the second split reads whole vectors past the end
        java.util.Arrays.fill(sp, span2 + pairs, 2 * span2, 0f);
        for (int j = 0; j < cols; j += L) {
            EvenOdd.split(sp, 2 * j, rows, at + j, rows, at + 2 * ps + j); // even columns: phases 0 and 2
            EvenOdd.split(sp, span2 + 2 * j, rows, at + ps + j, rows, at + 3 * ps + j); // odd: 1 and 3
        }
    }

    /**
     * Bᵀ of F(4x4, 3x3) on six vectors d0..d5 (loaded at a0..a5 of s), the six results at d[at + i·step]:
     * 4d0 − 5d2 + d4, ±(d3 − 4d1) + (d4 − 4d2), ±2(d3 − d1) + (d4 − d2), 4d1 − 5d3 + d5.
     */
    private static void bt6(float[] s, int a0, int a1, int a2, int a3, int a4, int a5, float[] d, int at, int step) {
        FloatVector d0 = FloatVector.fromArray(S, s, a0), d1 = FloatVector.fromArray(S, s, a1);
        FloatVector d2 = FloatVector.fromArray(S, s, a2), d3 = FloatVector.fromArray(S, s, a3);
        FloatVector d4 = FloatVector.fromArray(S, s, a4), d5 = FloatVector.fromArray(S, s, a5);
        d0.fma(FOUR, d2.fma(MINUS_FIVE, d4)).intoArray(d, at);
        FloatVector a = d2.fma(MINUS_FOUR, d4), b = d1.fma(MINUS_FOUR, d3);
        a.add(b).intoArray(d, at + step);
        a.sub(b).intoArray(d, at + 2 * step);
        FloatVector e = d4.sub(d2), f = d3.sub(d1).mul(2f);
        e.add(f).intoArray(d, at + 3 * step);
        e.sub(f).intoArray(d, at + 4 * step);
        d1.fma(FOUR, d3.fma(MINUS_FIVE, d5)).intoArray(d, at + 5 * step);
    }

    /**
     * y = Aᵀ M A (+ bias, then ReLU) for the tiles of tile rows [r0, r1), Aᵀ = [[1, 1, 1, 1, 1, 0],
     * [0, 1, −1, 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]: per tile row and output channel, Aᵀ M by
     * columns (vertical), then · A per output row into its four column phases, which two levels of
     * {@link EvenOdd#zip} put back in order (cropping sizes that are not multiples of 4).
     */
    private static void outputTransform4(Plan p, int r0, int r1, float[] m, int ld, int mRows, float[] bias, int bo,
                                         float[] y, int yo, boolean relu, boolean add, Scratch wk) {
        int tw = p.tw(), step = mRows * ld, oplane = p.oh() * p.ow();
        int ss = BlockedGemm.roundUp(tw, L) + L, zs = 2 * ss; // Aᵀ M rows, the four phases: ss floats; the zips: zs
        float[] ma = wk.get(MA4, 24 * ss), ph = wk.get(PHASES4, 4 * ss), z = wk.get(ZIP4, 2 * zs);
        for (int k = 0; k < p.k(); k++) {
            float b = bias == null ? 0f : bias[bo + k];
            for (int r = r0; r < r1; r++) {
                int n = r / p.th(), ty = r % p.th();
                int t0 = k * ld + (r - r0) * tw;
                for (int j = 0; j < 6; j++) { // (Aᵀ M)[a][j] at ma[(6a + j)·ss]
                    for (int tx = 0; tx < tw; tx += L) {
                        at6(m, t0 + j * step + tx, 6 * step, ma, j * ss + tx, 6 * ss, 0f, false, false);
                    }
                }
                int plane = yo + (n * p.yc() + k) * oplane;
                for (int a = 0; a < 4; a++) {
                    int oy = 4 * ty + a;
                    if (oy >= p.oh()) break;
                    for (int tx = 0; tx < tw; tx += L) {
                        at6(ma, 6 * a * ss + tx, ss, ph, tx, ss, b, bias != null, relu);
                    }
                    for (int tx = 0; tx < tw; tx += L) { // phases 0, 2 -> even columns; 1, 3 -> odd ones
                        EvenOdd.zip(ph, tx, ph, 2 * ss + tx, z, 2 * tx);
                        EvenOdd.zip(ph, ss + tx, ph, 3 * ss + tx, z, zs + 2 * tx);
                    }
                    interleave(z, 0, zs, y, plane + oy * p.ow(), p.ow(), add);
                }
            }
        }
    }

    /**
     * Aᵀ of F(4x4, 3x3) on six vectors m0..m5 (at at + i·step of s), plus b and ReLU when asked, the four results at
     * d[dat + o·dstep]: m0 + (m1 + m2) + (m3 + m4), (m1 − m2) + 2(m3 − m4), (m1 + m2) + 4(m3 + m4),
     * (m1 − m2) + 8(m3 − m4) + m5.
     */
    private static void at6(float[] s, int at, int step, float[] d, int dat, int dstep, float b, boolean addBias,
                            boolean relu) {
        FloatVector m0 = FloatVector.fromArray(S, s, at), m1 = FloatVector.fromArray(S, s, at + step);
        FloatVector m2 = FloatVector.fromArray(S, s, at + 2 * step), m3 = FloatVector.fromArray(S, s, at + 3 * step);
        FloatVector m4 = FloatVector.fromArray(S, s, at + 4 * step), m5 = FloatVector.fromArray(S, s, at + 5 * step);
        FloatVector pp = m1.add(m2), q = m1.sub(m2), r = m3.add(m4), t = m3.sub(m4);
        FloatVector o0 = m0.add(pp).add(r), o1 = t.fma(TWO, q), o2 = r.fma(FOUR, pp), o3 = t.fma(EIGHT, q).add(m5);
        if (addBias) {
            o0 = o0.add(b);
            o1 = o1.add(b);
            o2 = o2.add(b);
            o3 = o3.add(b);
        }
        if (relu) {
            o0 = o0.max(0f);
            o1 = o1.max(0f);
            o2 = o2.max(0f);
            o3 = o3.max(0f);
        }
        o0.intoArray(d, dat);
        o1.intoArray(d, dat + dstep);
        o2.intoArray(d, dat + 2 * dstep);
        o3.intoArray(d, dat + 3 * dstep);
    }

    /**
     * Tiles per chunk of the weight gradient aimed at (-Dnetslim.winograd.gradientTiles): the reduction length of each
     * chunk's 16 products; see bench/RESULTS.md (session 15).
     */
    static final int GRADIENT_TILES = Integer.getInteger("netslim.winograd.gradientTiles", 256);

    /**
     * dw += the weight gradient of a 3x3 stride-1 conv — x (N, C, H, W), dy (N, K, OH, OW), dw (K, C, 3, 3) — by
     * Winograd F(3x3, 2x2), the dual of the forward's F(2x2, 3x3) (Lavin and Gray, 2016). dW[k][c] is the
     * correlation of the padded input with dy, a 3x3 output whose "kernel" is the whole of dy; cut dy into the
     * forward's 2x2 output tiles and each tile contributes a 3x3 correlation of a 4x4 input tile (the forward's own
     * tile, Bᵀ d B the forward's input transform) with a 2x2 tile g of dy. Swapping the roles of A and G in the
     * forward's identity gives {@code dW_tile = Gᵀ [(A g Aᵀ) ⊙ (Bᵀ d B)] G} with A g Aᵀ, per dimension, (g0, g0 + g1,
     * g0 − g1, −g1). The sum over tiles and images moves inside: 16 products {@code M[ξ] (K x C) = U[ξ] (K x T) ·
     * V[ξ]ᵀ (T x C)} over the tiles T, then one output transform per kernel — 16 multiply-adds per tile per (k, c)
     * instead of im2col's 36: 2.25x fewer.
     *
     * <p>The 16 products are split between the threads by the transforms' rows (ξ = 4i + j, row i: on two threads
     * rows 0–1 and 2–3), so no thread's sums need adding to another's: each thread runs every chunk (whole tile rows,
     * {@link #GRADIENT_TILES} tiles) through its rows of both transforms into its own buffers and adds that chunk's
     * products (single-threaded GEMM, the reduction over the chunk's tiles) into M; then both threads transform M over
     * the output channels and add it into dw. The minus sign of −g1 is not applied to U; it is folded into the output
     * transform's G (row 3 negated). That split has each thread split every row of x and dy into even and odd
     * columns; by default ({@link #SHARED_TRANSFORMS}) each chunk's transforms are instead computed once, split by
     * channels, and the products by ξ ({@link #sharedChunks}): same products, same bits.
     */
    void weightGradient(Tensor x, Tensor dy, Tensor dw, ConvSpec s) {
        weightGradient(x, dy, dw, s, 2);
    }

    /**
     * {@link #weightGradient(Tensor, Tensor, Tensor, ConvSpec)} with dy cut into m x m tiles: m = 2, F(3x3, 2x2);
     * m = 4, F(3x3, 4x4), the dual of the forward's F(4x4, 3x3): dy cut into 4x4 tiles g, each the "kernel" of a 3x3
     * correlation with the forward's 6x6 input tile d, so {@code dW_tile = Gᵀ [(A g Aᵀ) ⊙ (Bᵀ d B)] G} with the
     * forward's Bᵀ ({@link #inputTransform4}) and G (6 x 3), and A the transpose of its Aᵀ: per dimension A g = (g0,
     * (g0 + g2) + (g1 + g3), (g0 + g2) − (g1 + g3), (g0 + 4g2) + (2g1 + 8g3), (g0 + 4g2) − (2g1 + 8g3), g3). (The
     * identity y = Aᵀ[(G w) ⊙ (Bᵀ d)], for every w and d, makes Σ y'·y a trilinear form in y', w and d; its
     * derivative in w at y' = dy is the weight gradient.) Its 36 products do 36 multiply-adds per 4x4 tile per (k, c)
     * against F(3x3, 2x2)'s 64 and im2col's 144: 1.78x fewer than F(3x3, 2x2) where the maps are whole tiles (14x14
     * pads each row of tiles to 16). The same chunks, thread split and output transform (G's six rows) as F(3x3, 2x2).
     */
    void weightGradient(Tensor x, Tensor dy, Tensor dw, ConvSpec s, int m) {
        if (m != 2 && m != 4) throw new IllegalArgumentException("Winograd weight gradient: tile " + m + " is not 2 or 4");
        if (!eligible(s)) throw new IllegalArgumentException("Winograd weight gradient: not a 3x3 stride-1 conv: " + s);
        ShapeChecks.requireRank(x, 4, "conv2dBackward", "x");
        Shape xs = x.shape();
        int n = xs.n(), c = s.inChannels(), k = s.outChannels(), oh = s.outH(xs.h()), ow = s.outW(xs.w());
        if (xs.c() != c) ShapeChecks.fail("conv2dBackward", "x " + xs + " does not match " + s);
        ShapeChecks.requireShape(dy, "conv2dBackward", "dy", n, k, oh, ow);
        ShapeChecks.requireShape(dw, "conv2dBackward", "dw", k, c, 3, 3);
        int th = (oh + m - 1) / m, tw = (ow + m - 1) / m, a2 = (m + 2) * (m + 2), rowsOf = m + 2;
        Plan p = new Plan(n, c, k, k, xs.h(), xs.w(), oh, ow, s.padH(), s.padW(), m, th, tw);
        Plan pd = new Plan(n, k, k, k, oh, ow, oh, ow, 0, 0, m, th, tw); // dy's rows, cut as an unpadded input
        int rows = p.tileRows(), target = m == 2 ? GRADIENT_TILES : GRADIENT_TILES4;
        int perChunk = Math.max(1, Math.round((float) target / tw)), chunks = (rows + perChunk - 1) / perChunk;
        int parts = Math.min(pool.threadsHere(), rowsOf), cp = BlockedGemm.roundUp(c, L);
        float[] sums = work.get().get(GRAD_SUMS, a2 * k * cp); // M[ξ][k][c], rows cp apart
        float[] xd = x.data(), dyd = dy.data();
        int xo = x.offset(), dyo = dy.offset();
        if (SHARED_TRANSFORMS) {
            sharedChunks(p, pd, perChunk, xd, xo, dyd, dyo, sums, cp);
        } else {
            pool.parallelFor(parts, 1, (q0, q1) -> {
                for (int q = q0; q < q1; q++) {
                    int from = WorkerPool.split(rowsOf, parts, q), to = WorkerPool.split(rowsOf, parts, q + 1);
                    for (int ch = 0; ch < chunks; ch++) {
                        int r0 = ch * perChunk, r1 = Math.min(rows, r0 + perChunk);
                        gradientChunk(p, pd, r0, r1, xd, xo, dyd, dyo, sums, cp, from, to, ch == 0);
                    }
                }
            });
        }
        float[] dwd = dw.data();
        int dwo = dw.offset();
        pool.parallelFor(k, Math.max(1, 2048 / cp), (k0, k1) -> {
            float[] out = work.get().get(OUT, (9 + 3 * rowsOf) * cp); // rows 0–8 the taps, then T (gradientOutput)
            for (int o = k0; o < k1; o++) {
                for (int i = 0; i < cp; i += L) gradientOutput(m, sums, o * cp + i, k * cp, out, i, cp);
                for (int i = 0; i < c; i++) {
                    int at = dwo + (o * c + i) * 9;
                    for (int t = 0; t < 9; t++) dwd[at + t] += out[t * cp + i];
                }
            }
        });
    }

    /**
     * One chunk of {@link #weightGradient} for the rows [from, to) of the transforms (ξ in [(m + 2)·from, (m + 2)·to)):
     * V = the forward's input transform of x's tiles, U = A g Aᵀ of dy's tiles, then sums[ξ] (+)= U[ξ] · V[ξ]ᵀ
     * (overwritten on the first chunk).
     */
    private void gradientChunk(Plan p, Plan pd, int r0, int r1, float[] x, int xo, float[] dy, int dyo, float[] sums,
                               int cp, int from, int to, boolean first) {
        Scratch wk = work.get();
        int rowsOf = p.m() + 2;
        int tc = (r1 - r0) * p.tw(), ld = tc + L, c = p.c(), k = p.k(), count = rowsOf * (to - from);
        float[] v = wk.get(V, count * c * ld), u = wk.get(GRAD_U, count * k * ld);
        if (p.m() == 2) {
            int span = BlockedGemm.roundUp(p.tw(), L) + L + 1;
            float[] sp = wk.get(SPLIT, 8 * span);
            inputTransform(p, r0, r1, x, xo, v, ld, sp, span, from, to, 0, c);
            gradientTransform(pd, r0, r1, dy, dyo, u, ld, sp, span, from, to, 0, k);
        } else {
            inputTransform4(p, r0, r1, x, xo, v, ld, wk, from, to, 0, c);
            gradientTransform4(pd, r0, r1, dy, dyo, u, ld, wk, from, to, 0, k);
        }
        for (int i = 0; i < count; i++) {
            int xi = rowsOf * from + i;
            single.sgemm(false, true, k, c, tc, 1f, u, i * k * ld, ld, v, i * c * ld, ld, first ? 0f : 1f,
                    sums, xi * k * cp, cp);
        }
    }

    /**
     * U[ξ][k][t] = (A g Aᵀ)[ξ] for dy's 2x2 tiles g of tile rows [r0, r1) (pd: dy as an unpadded input, its tile
     * rows those of the forward), with A g = (g0, g0 + g1, g0 − g1, g1) per dimension — the last row and column not
     * negated (see {@link #weightGradient}). Outputs past dy's edge (odd sizes) are zero. Rows [from, to) of ξ (stored
     * from ξ = 4·from on) and output channels [o0, o1) only.
     */
    private static void gradientTransform(Plan pd, int r0, int r1, float[] dy, int dyo, float[] u, int ld, float[] sp,
                                          int span, int from, int to, int o0, int o1) {
        int tw = pd.tw(), plane = pd.h() * pd.w(), step = pd.c() * ld;
        for (int o = o0; o < o1; o++) {
            for (int r = r0; r < r1; r++) {
                int n = r / pd.th(), ty = r % pd.th(), base = dyo + (n * pd.c() + o) * plane;
                splitRow(dy, base, pd, 2 * ty, sp, 0, span, tw);
                splitRow(dy, base, pd, 2 * ty + 1, sp, 2 * span, span, tw);
                int t0 = (r - r0) * tw;
                for (int tx = 0; tx < tw; tx += L) {
                    int at = o * ld + t0 + tx - 4 * from * step;
                    if (from <= 0 && 0 < to) gradientRow(sp, tx, span, u, at, step);
                    if (from <= 1 && 1 < to) gradientRowSum(sp, tx, 2 * span + tx, span, u, at + 4 * step, step);
                    if (from <= 2 && 2 < to) {
                        gradientRowDifference(sp, tx, 2 * span + tx, span, u, at + 8 * step, step);
                    }
                    if (from <= 3 && 3 < to) gradientRow(sp, 2 * span + tx, span, u, at + 12 * step, step);
                }
            }
        }
    }

    /**
     * One row of A g Aᵀ for L neighbouring tiles from one of dy's two rows (even columns at sp[p], odd at
     * sp[p + span]): (e, e + o, e − o, o) at u[at + j·step]. Three methods (this, the rows' sum, their difference),
     * not one with a sign, so that no vector is assigned in two branches (the README's rule for the vector kernels).
     */
    private static void gradientRow(float[] sp, int p, int span, float[] u, int at, int step) {
        FloatVector e = FloatVector.fromArray(S, sp, p), o = FloatVector.fromArray(S, sp, p + span);
        e.intoArray(u, at);
        e.add(o).intoArray(u, at + step);
        e.sub(o).intoArray(u, at + 2 * step);
        o.intoArray(u, at + 3 * step);
    }

    /** {@link #gradientRow} of the sum of the rows at p and q. */
    private static void gradientRowSum(float[] sp, int p, int q, int span, float[] u, int at, int step) {
        FloatVector e = FloatVector.fromArray(S, sp, p).add(FloatVector.fromArray(S, sp, q));
        FloatVector o = FloatVector.fromArray(S, sp, p + span).add(FloatVector.fromArray(S, sp, q + span));
        e.intoArray(u, at);
        e.add(o).intoArray(u, at + step);
        e.sub(o).intoArray(u, at + 2 * step);
        o.intoArray(u, at + 3 * step);
    }

    /** {@link #gradientRow} of the row at p minus the row at q. */
    private static void gradientRowDifference(float[] sp, int p, int q, int span, float[] u, int at, int step) {
        FloatVector e = FloatVector.fromArray(S, sp, p).sub(FloatVector.fromArray(S, sp, q));
        FloatVector o = FloatVector.fromArray(S, sp, p + span).sub(FloatVector.fromArray(S, sp, q + span));
        e.intoArray(u, at);
        e.add(o).intoArray(u, at + step);
        e.sub(o).intoArray(u, at + 2 * step);
        o.intoArray(u, at + 3 * step);
    }

    /**
     * dW = G'ᵀ M G' for L input channels of one output channel, M[ξ] at sums[ξ·plane + at]: T = M G' row by row into
     * out[(9 + 3r + v)·ld + i], then tap t (= 3u + v) = column v of G'ᵀ T into out[t·ld + i]. F(3x3, 2x2) (m = 2):
     * G' = G with row 3 negated = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, −1]]; F(3x3, 4x4): the forward's 6 x 3
     * {@link #G4} itself.
     */
    private static void gradientOutput(int m, float[] sums, int at, int plane, float[] out, int i, int ld) {
        int rows = m + 2;
        for (int r = 0; r < rows; r++) {
            int from = at + rows * r * plane, to = (9 + 3 * r) * ld + i;
            if (m == 2) rowTimesG(sums, from, plane, out, to, ld);
            else rowTimesG4(sums, from, plane, out, to, ld);
        }
        for (int v = 0; v < 3; v++) {
            if (m == 2) tapsFromT(out, (9 + v) * ld + i, v * ld + i, ld);
            else tapsFromT4(out, (9 + v) * ld + i, v * ld + i, ld);
        }
    }

    /**
     * Row r of T = M G' for L channels — (m0 + h, (m1 − m2)/2, h − m3) with h = (m1 + m2)/2, M's row r at m[at +
     * j·plane] — into t[to + v·ld]. Two small methods with no vectors at their edges, not one: the whole transform as
     * one method ran on the Vector API's Java fallback in most JVMs of a training step (11.5 MB allocated per
     * GoogLeNet step; C2 had not compiled it).
     */
    private static void rowTimesG(float[] m, int at, int plane, float[] t, int to, int ld) {
        FloatVector m0 = FloatVector.fromArray(S, m, at), m1 = FloatVector.fromArray(S, m, at + plane);
        FloatVector m2 = FloatVector.fromArray(S, m, at + 2 * plane), m3 = FloatVector.fromArray(S, m, at + 3 * plane);
        FloatVector h = m1.add(m2).mul(0.5f);
        m0.add(h).intoArray(t, to);
        m1.sub(m2).mul(0.5f).intoArray(t, to + ld);
        h.sub(m3).intoArray(t, to + 2 * ld);
    }

    /**
     * Column v of dW = G'ᵀ T for L channels — taps (0, v), (1, v), (2, v) = (t0 + h, (t1 − t2)/2, h − t3) with h =
     * (t1 + t2)/2, T's rows at t[from + 3r·ld] — into out[to], out[to + 3·ld], out[to + 6·ld].
     */
    private static void tapsFromT(float[] t, int from, int to, int ld) {
        FloatVector t0 = FloatVector.fromArray(S, t, from), t1 = FloatVector.fromArray(S, t, from + 3 * ld);
        FloatVector t2 = FloatVector.fromArray(S, t, from + 6 * ld), t3 = FloatVector.fromArray(S, t, from + 9 * ld);
        FloatVector h = t1.add(t2).mul(0.5f);
        t0.add(h).intoArray(t, to);
        t1.sub(t2).mul(0.5f).intoArray(t, to + 3 * ld);
        h.sub(t3).intoArray(t, to + 6 * ld);
    }

    /**
     * Tiles per chunk of the F(3x3, 4x4) weight gradient aimed at (-Dnetslim.winograd.gradientTiles4): the reduction
     * length of each chunk's 36 products.
     */
    static final int GRADIENT_TILES4 = Integer.getInteger("netslim.winograd.gradientTiles4", 128);

    /** -Dnetslim.winograd.sharedGradientTransforms: see {@link #sharedChunks}. Not final: probes flip it. */
    static boolean SHARED_TRANSFORMS = !"false".equals(System.getProperty("netslim.winograd.sharedGradientTransforms"));

    /**
     * The weight gradient's chunks (perChunk tile rows each) with each transform computed once: per chunk, the
     * threads first transform whole channels (x's into V, then dy's into U: every row of both, all (m + 2)² of ξ),
     * then split the products by ξ, each adding its U[ξ] · V[ξ]ᵀ into sums[ξ] (overwritten on the first chunk).
     * V and U are the calling thread's and shared; a parallelFor returns only when every thread is done.
     */
    private void sharedChunks(Plan p, Plan pd, int perChunk, float[] x, int xo, float[] dy, int dyo, float[] sums,
                              int cp) {
        int m = p.m(), a2 = p.a2(), c = p.c(), k = p.k(), rows = p.tileRows(), rowsOf = m + 2;
        int most = Math.min(rows, perChunk) * p.tw() + L;
        Scratch mine = work.get();
        float[] v = mine.get(V, a2 * c * most), u = mine.get(GRAD_U, a2 * k * most);
        for (int r0 = 0; r0 < rows; r0 += perChunk) {
            int from = r0, r1 = Math.min(rows, r0 + perChunk), tc = (r1 - r0) * p.tw(), ld = tc + L;
            boolean first = r0 == 0;
            pool.parallelFor(c + k, 1, (i0, i1) -> {
                Scratch wk = work.get();
                int c1 = Math.min(i1, c), o0 = Math.max(i0, c) - c, o1 = Math.max(i1, c) - c;
                int span = BlockedGemm.roundUp(p.tw(), L) + L + 1;
                if (m == 2) {
                    float[] sp = wk.get(SPLIT, 8 * span);
                    if (i0 < c1) inputTransform(p, from, r1, x, xo, v, ld, sp, span, 0, rowsOf, i0, c1);
                    if (o0 < o1) gradientTransform(pd, from, r1, dy, dyo, u, ld, sp, span, 0, rowsOf, o0, o1);
                } else {
                    if (i0 < c1) inputTransform4(p, from, r1, x, xo, v, ld, wk, 0, rowsOf, i0, c1);
                    if (o0 < o1) gradientTransform4(pd, from, r1, dy, dyo, u, ld, wk, 0, rowsOf, o0, o1);
                }
            });
            pool.parallelFor(a2, 1, (x0, x1) -> {
                for (int xi = x0; xi < x1; xi++) {
                    single.sgemm(false, true, k, c, tc, 1f, u, xi * k * ld, ld, v, xi * c * ld, ld, first ? 0f : 1f,
                            sums, xi * k * cp, cp);
                }
            });
        }
    }

    /**
     * U[ξ][k][t] = (A g Aᵀ)[ξ] (rows [from, to), stored from ξ = 6·from on) for dy's 4x4 tiles g of tile rows [r0,
     * r1): each dy row split into its four column phases (tile t's columns are phases 0–3 at t), A g down the four
     * rows (vertical, all six rows), then · Aᵀ across L neighbouring tiles. Rows and columns past dy's edge are zero.
     * Output channels [o0, o1) only.
     */
    private static void gradientTransform4(Plan pd, int r0, int r1, float[] dy, int dyo, float[] u, int ld,
                                           Scratch wk, int from, int to, int o0, int o1) {
        int tw = pd.tw(), plane = pd.h() * pd.w(), step = pd.c() * ld;
        int cols = tw, ps = BlockedGemm.roundUp(cols, L) + L;
        int span2 = BlockedGemm.roundUp(2 * cols, 2 * L) + 2 * L;
        float[] sp = wk.get(SPLIT, 2 * span2), rows = wk.get(ROWS4, 24 * ps), ag = wk.get(BTD4, 24 * ps);
        for (int o = o0; o < o1; o++) {
            for (int r = r0; r < r1; r++) {
                int n = r / pd.th(), ty = r % pd.th(), base = dyo + (n * pd.c() + o) * plane;
                for (int a = 0; a < 4; a++) phaseRow(dy, base, pd, 4 * ty + a, sp, span2, rows, 4 * a * ps, ps, cols);
                for (int j = 0; j < 4 * ps; j += L) { // A g, row i at ag[4·i·ps], phases ps apart
                    a6(rows, j, 4 * ps, ag, j, 4 * ps);
                }
                int t0 = o * ld + (r - r0) * tw;
                for (int i = from; i < to; i++) { // (A g) Aᵀ: tile t's columns are phases 0..3 at t
                    int b = 4 * i * ps, ui = t0 + 6 * (i - from) * step;
                    for (int tx = 0; tx < tw; tx += L) a6(ag, b + tx, ps, u, ui + tx, step);
                }
            }
        }
    }

    /**
     * A of F(3x3, 4x4) on four vectors g0..g3 (at at + i·step of s), the six results at d[dat + ξ·dstep]: g0,
     * (g0 + g2) ± (g1 + g3), (g0 + 4g2) ± (2g1 + 8g3), g3.
     */
    private static void a6(float[] s, int at, int step, float[] d, int dat, int dstep) {
        FloatVector g0 = FloatVector.fromArray(S, s, at), g1 = FloatVector.fromArray(S, s, at + step);
        FloatVector g2 = FloatVector.fromArray(S, s, at + 2 * step), g3 = FloatVector.fromArray(S, s, at + 3 * step);
        FloatVector e = g0.add(g2), o = g1.add(g3), e4 = g2.fma(FOUR, g0), o4 = g3.fma(FOUR, g1).mul(2f);
        g0.intoArray(d, dat);
        e.add(o).intoArray(d, dat + dstep);
        e.sub(o).intoArray(d, dat + 2 * dstep);
        e4.add(o4).intoArray(d, dat + 3 * dstep);
        e4.sub(o4).intoArray(d, dat + 4 * dstep);
        g3.intoArray(d, dat + 5 * dstep);
    }

    /**
     * (r0, r1, r2) = (m0, …, m5) · G for L channels, the six at s[at + j·step], into d[to], d[to + dstep], d[to +
     * 2·dstep]: m0/4 − (m1 + m2)/6 + (m3 + m4)/24, (m2 − m1)/6 + (m3 − m4)/12, (m3 + m4 − m1 − m2)/6 + m5.
     */
    private static void rowTimesG4(float[] s, int at, int step, float[] d, int to, int dstep) {
        FloatVector m0 = FloatVector.fromArray(S, s, at), m1 = FloatVector.fromArray(S, s, at + step);
        FloatVector m2 = FloatVector.fromArray(S, s, at + 2 * step), m3 = FloatVector.fromArray(S, s, at + 3 * step);
        FloatVector m4 = FloatVector.fromArray(S, s, at + 4 * step), m5 = FloatVector.fromArray(S, s, at + 5 * step);
        FloatVector s12 = m1.add(m2), s34 = m3.add(m4);
        m0.mul(0.25f).add(s34.mul(1f / 24).sub(s12.mul(1f / 6))).intoArray(d, to);
        m2.sub(m1).mul(1f / 6).add(m3.sub(m4).mul(1f / 12)).intoArray(d, to + dstep);
        s34.sub(s12).mul(1f / 6).add(m5).intoArray(d, to + 2 * dstep);
    }

    /** Column v of dW = Gᵀ T: T's six rows at t[from + 3r·ld], the taps (0, v), (1, v), (2, v) into t[to + 3u·ld]. */
    private static void tapsFromT4(float[] t, int from, int to, int ld) {
        rowTimesG4(t, from, 3 * ld, t, to, 3 * ld);
    }
}
