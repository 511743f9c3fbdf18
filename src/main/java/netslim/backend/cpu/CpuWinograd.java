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
 *   <li>16 single-threaded products: {@code cblas_sgemm} when the backend's GEMM is OpenBLAS (the default), else
 *       the Java GEMM's micro-kernel ({@link VectorMicroKernel}) on U pre-packed in its panel layout;</li>
 *   <li>output transform Aᵀ M A, bias and ReLU across 8 tiles, then the two output rows of each tile row are
 *       interleaved back into NCHW (cropping odd sizes).</li>
 * </ol>
 * Which convs take this path is decided per layer by shape ({@link #pays}); see bench/RESULTS.md for the numbers.
 *
 * <p>Why OpenBLAS for the products when it is available: in a whole GoogLeNet forward the JIT-compiled Java
 * micro-kernel ran at either ~70 or ~45 GFLOP/s per core depending on the JVM run (the same compilation log in
 * both; alone, at any operand alignment, it always ran at ~74), so the Java path's speed varied 1.5x between runs,
 * while OpenBLAS's assembly kernel gave the same time in every run (bench/RESULTS.md, session 5).
 */
final class CpuWinograd {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Tiles per chunk aimed at: enough columns for the products, V and M near L2 (-Dnetslim.winograd.tiles; 48–256
     * measured within noise of each other on GoogLeNet at batch 1).
     */
    static final int TARGET_TILES = Integer.getInteger("netslim.winograd.tiles", 128);

    /** The automatic rule's least number of 2x2 output tiles per call ({@link #pays}). */
    static final int MIN_TILES = 64;
    /** U is stored in the micro-kernel's packed A layout: panels of MR output channels. */
    private static final int MR = VectorMicroKernel.MR, NR = VectorMicroKernel.NR;

    private final WorkerPool pool;
    private final VectorMicroKernel kernel = new VectorMicroKernel();
    /** Per-thread buffers: V, M, the packed B panel (Java kernel), the split input rows, the output rows. */
    private final ThreadLocal<Scratch> work = ThreadLocal.withInitial(() -> new Scratch(5));
    private static final int V = 0, M = 1, PB = 2, SPLIT = 3, OUT = 4;

    /** Single-threaded OpenBLAS for the 16 products when the backend's GEMM is OpenBLAS; null: the Java kernel. */
    private final OpenBlasGemm blas;

    /**
     * {@code gemm} is the backend's GEMM: with OpenBLAS the products are single-threaded {@code cblas_sgemm} calls
     * (U in plain layout); otherwise the Java micro-kernel on U in its packed layout.
     */
    CpuWinograd(WorkerPool pool, Gemm gemm) {
        this.pool = pool;
        this.blas = gemm instanceof OpenBlasGemm ? new OpenBlasGemm(1) : null;
    }

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
        // Measured per layer on GoogLeNet (bench/RESULTS.md, session 5): 1.1–1.6x faster than im2col + GEMM with at
        // least 64 tiles in the call (each of the 16 products then has enough columns), 0.7–0.9x at batch 1 on 7x7
        // maps (16 tiles). 16 channels is the least GoogLeNet has (3a.branch3.1, 16 -> 32: 1.5x faster); fewer were
        // not measured, and there the transforms are a growing share of the work, so they stay on im2col.
        long tiles = (long) x.n() * ((s.outH(x.h()) + 1) / 2) * ((s.outW(x.w()) + 1) / 2);
        return tiles >= MIN_TILES && s.inChannels() >= 16 && s.outChannels() >= 16;
    }

    /**
     * U[ξ][k][c] = (G g_kc Gᵀ)[ξ] for the 3x3 kernels of w (K, C, 3, 3), in double, rounded once; 16·K·C floats.
     * G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
     */
    static float[] transformWeights(float[] w, int off, int k, int c) {
        float[] u = new float[16 * k * c];
        double[] gg = new double[12];
        for (int o = 0; o < k; o++) {
            for (int i = 0; i < c; i++) {
                int b = off + (o * c + i) * 9;
                for (int col = 0; col < 3; col++) { // G g: 4 x 3
                    double g0 = w[b + col], g1 = w[b + 3 + col], g2 = w[b + 6 + col];
                    gg[col] = g0;
                    gg[3 + col] = 0.5 * (g0 + g1 + g2);
                    gg[6 + col] = 0.5 * (g0 - g1 + g2);
                    gg[9 + col] = g2;
                }
                for (int r = 0; r < 4; r++) { // (G g) Gᵀ: 4 x 4
                    double g0 = gg[3 * r], g1 = gg[3 * r + 1], g2 = gg[3 * r + 2];
                    u[((4 * r) * k + o) * c + i] = (float) g0;
                    u[((4 * r + 1) * k + o) * c + i] = (float) (0.5 * (g0 + g1 + g2));
                    u[((4 * r + 2) * k + o) * c + i] = (float) (0.5 * (g0 - g1 + g2));
                    u[((4 * r + 3) * k + o) * c + i] = (float) g2;
                }
            }
        }
        return u;
    }

    /**
     * U of w as a (16, K, C) tensor. Shared by every plan over the same weight array (the embedding API's per-thread
     * plans): cached weakly by the array's identity, and a hit is used only when its copy of the weights still equals
     * w bit for bit (a model whose weights changed gets a fresh transform, never a stale one).
     */
    static Tensor prepared(Tensor w, ConvSpec s, boolean packed) {
        if (!eligible(s)) throw new IllegalArgumentException("prepareConvWeights: not a 3x3 stride-1 conv: " + s);
        int k = s.outChannels(), c = s.inChannels(), size = k * c * 9;
        float[] wd = w.data();
        int off = w.offset();
        return CACHE.get(wd, p -> p.offset == off && p.packed == packed && p.weights.length == size
                        && java.util.Arrays.equals(wd, off, off + size, p.weights, 0, size),
                q -> q.offset == off && q.packed == packed, // a stale transform of the same weights goes
                () -> {
                    float[] u = transformWeights(wd, off, k, c);
                    return new Prepared(off, packed, java.util.Arrays.copyOfRange(wd, off, off + size), packed
                            ? Tensor.of(Shape.of(16, roundUp(k, MR), c), pack(u, k, c))
                            : Tensor.of(Shape.of(16, k, c), u));
                }).u;
    }

    private record Prepared(int offset, boolean packed, float[] weights, Tensor u) {
    }

    /** Per weight array (identity, weakly): its transforms, each with its own copy of the weights it came from. */
    private static final netslim.tensor.DerivedCache<Prepared> CACHE = new netslim.tensor.DerivedCache<>();

    /**
     * U[ξ] (K x C, from {@link #transformWeights}) in the micro-kernel's packed A layout: per ξ, panels of MR rows
     * (output channels), element (i, c) of panel q at (ξ·Kp + q·MR)·C + c·MR + i; rows past K are zero. Kp = K
     * rounded up to MR.
     */
    static float[] pack(float[] u, int k, int c) {
        int kp = roundUp(k, MR);
        float[] packed = new float[16 * kp * c];
        for (int xi = 0; xi < 16; xi++) {
            for (int o = 0; o < k; o++) {
                int panel = (xi * kp + o / MR * MR) * c, i = o % MR;
                for (int ch = 0; ch < c; ch++) packed[panel + ch * MR + i] = u[(xi * k + o) * c + ch];
            }
        }
        return packed;
    }

    /** The geometry of one call. */
    private record Plan(int n, int c, int k, int h, int w, int oh, int ow, int padH, int padW, int th, int tw) {
        int tileRows() {
            return n * th;
        }
    }

    /** y = conv(x, w) + bias, then max(0, ·) when relu, with u = {@link #prepared} of w in this instance's layout. */
    void forward(Tensor x, Tensor u, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        if (!eligible(s)) throw new IllegalArgumentException("conv2dPrepared: not a 3x3 stride-1 conv: " + s);
        ShapeChecks.requireRank(x, 4, "conv2dPrepared", "x");
        Shape xs = x.shape();
        ShapeChecks.require(xs.c() == s.inChannels(), "conv2dPrepared", "x " + xs + " does not match " + s);
        int k = s.outChannels(), c = s.inChannels();
        ShapeChecks.requireShape(u, "conv2dPrepared", "u", 16, packed() ? roundUp(k, MR) : k, c);
        int oh = s.outH(xs.h()), ow = s.outW(xs.w());
        ShapeChecks.requireShape(y, "conv2dPrepared", "y", xs.n(), k, oh, ow);
        if (bias != null) ShapeChecks.requireShape(bias, "conv2dPrepared", "bias", k);
        Plan p = new Plan(xs.n(), c, k, xs.h(), xs.w(), oh, ow, s.padH(), s.padW(), (oh + 1) / 2, (ow + 1) / 2);
        int rows = p.tileRows();
        int perChunk = Math.max(1, Math.round((float) TARGET_TILES / p.tw()));
        perChunk = Math.min(perChunk, (rows + pool.threads() - 1) / pool.threads()); // every thread gets work
        int rowsPerChunk = perChunk, chunks = (rows + perChunk - 1) / perChunk;
        float[] xd = x.data(), ud = u.data(), yd = y.data(), bd = bias == null ? null : bias.data();
        int xo = x.offset(), uo = u.offset(), yo = y.offset(), bo = bias == null ? 0 : bias.offset();
        pool.parallelFor(chunks, 1, (q0, q1) -> {
            for (int q = q0; q < q1; q++) {
                int r0 = q * rowsPerChunk, r1 = Math.min(rows, r0 + rowsPerChunk);
                chunk(p, r0, r1, xd, xo, ud, uo, bd, bo, yd, yo, relu);
            }
        });
    }

    private void chunk(Plan p, int r0, int r1, float[] x, int xo, float[] u, int uo, float[] bias, int bo,
                       float[] y, int yo, boolean relu) {
        Scratch wk = work.get();
        int tc = (r1 - r0) * p.tw(), c = p.c();
        // Java kernel: M has Kp rows and tcp columns (whole MR x NR tiles); OpenBLAS: exactly K x tc.
        int tcp = packed() ? roundUp(tc, NR) : tc, kp = packed() ? roundUp(p.k(), MR) : p.k();
        int ld = tc + L; // the last vector of a tile row may write up to L − 1 lanes past the chunk
        int ldm = tcp + L; // the output transform reads up to L − 1 lanes past the last tile
        float[] v = wk.get(V, 16 * c * ld);
        float[] m = wk.get(M, 16 * kp * ldm);
        int span = roundUp(p.tw(), L) + L + 1; // TW + 1 columns read, vector loads up to one vector past the end
        // The split input rows: 4 row slots x even / odd; the output rows: 2 rows x even / odd; span floats each.
        float[] split = wk.get(SPLIT, 8 * span), out = wk.get(OUT, 4 * span);
        inputTransform(p, r0, r1, x, xo, v, ld, split, span);
        if (blas != null) {
            for (int xi = 0; xi < 16; xi++) {
                blas.sgemm(false, false, kp, tc, c, 1f, u, uo + xi * kp * c, c, v, xi * c * ld, ld, 0f,
                        m, xi * kp * ldm, ldm);
            }
        } else {
            float[] pb = wk.get(PB, tcp * c);
            for (int xi = 0; xi < 16; xi++) {
                packB(v, xi * c * ld, ld, c, tc, tcp, pb);
                product(u, uo + xi * kp * c, kp, c, pb, tcp, m, xi * kp * ldm, ldm);
            }
        }
        outputTransform(p, r0, r1, m, ldm, kp, bias, bo, y, yo, relu, out, span);
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
        int tw = p.tw(), plane = p.h() * p.w(), step = p.c() * ld; // V[ξ] planes are step apart
        int[] slot = new int[4];
        for (int c = 0; c < p.c(); c++) {
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
                    int s0 = slot[0], s1 = slot[1];
                    slot[0] = slot[2];
                    slot[1] = slot[3];
                    slot[2] = s0;
                    slot[3] = s1;
                    splitRow(x, base, p, iy0 + 2, sp, slot[2], span, tw + 1);
                    splitRow(x, base, p, iy0 + 3, sp, slot[3], span, tw + 1);
                }
                int t0 = (r - r0) * tw;
                for (int tx = 0; tx < tw; tx += L) {
                    tiles(sp, slot[0] + tx, slot[1] + tx, slot[2] + tx, slot[3] + tx, span, v, c * ld + t0 + tx, step);
                }
            }
        }
    }

    /**
     * Bᵀ d B for L neighbouring tiles whose input rows' even columns start at a0..a3 in sp (odd ones span later),
     * stored at v[at + ξ·step]: Bᵀ d is w0 = d0 − d2, w1 = d1 + d2, w2 = d2 − d1, w3 = d1 − d3, one
     * {@link #tileRow} each.
     */
    private static void tiles(float[] sp, int a0, int a1, int a2, int a3, int span, float[] v, int at, int step) {
        tileRow(sp, a0, a2, true, span, v, at, step);
        tileRow(sp, a1, a2, false, span, v, at + 4 * step, step);
        tileRow(sp, a2, a1, true, span, v, at + 8 * step, step);
        tileRow(sp, a1, a3, true, span, v, at + 12 * step, step);
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
                                        float[] y, int yo, boolean relu, float[] out, int span) {
        int tw = p.tw(), step = mRows * ld, oplane = p.oh() * p.ow();
        for (int k = 0; k < p.k(); k++) {
            float b = bias == null ? 0f : bias[bo + k];
            for (int r = r0; r < r1; r++) {
                int n = r / p.th(), ty = r % p.th();
                int t0 = (r - r0) * tw;
                for (int tx = 0; tx < tw; tx += L) {
                    tilesOut(m, k * ld + t0 + tx, step, b, bias != null, relu, out, tx, span);
                }
                int plane = yo + (n * p.k() + k) * oplane;
                int oy = 2 * ty;
                interleave(out, 0, span, y, plane + oy * p.ow(), p.ow());
                if (oy + 1 < p.oh()) interleave(out, 2 * span, 3 * span, y, plane + (oy + 1) * p.ow(), p.ow());
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

    /** y[at + 2j] = out[even + j], y[at + 2j + 1] = out[odd + j] for the first {@code width} columns. */
    private static void interleave(float[] out, int even, int odd, float[] y, int at, int width) {
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

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
