package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import netslim.tensor.Tensor;

/**
 * BatchNorm2d on NCHW, parallel over channels. Statistics are accumulated per channel in double across blocks of
 * {@link #BLOCK} floats, each block summed in float vector lanes (16 terms per lane) on planes of at least a block: the mean first, then
 * the sum of squared deviations (two passes, no E[x²]−E[x]² cancellation). One scalar double chain per channel, as
 * before, ran at a quarter of an element per cycle (the add's latency): GoogLeNet's conv1 BN at batch 8 took 7.9 ms
 * forward and 7.1 ms backward. A null gamma / beta means 1 / 0.
 */
final class CpuBatchNorm {
    private final WorkerPool pool;

    CpuBatchNorm(WorkerPool pool) {
        this.pool = pool;
    }

    /** View of one NCHW tensor as N blocks of C planes of HW floats. */
    private record Layout(int images, int channels, int hw) {
        static Layout of(Tensor x) {
            var s = x.shape();
            if (!(s.rank() >= 2)) ShapeChecks.fail("batchNorm", "x must be (N, C, ...), got " + s);
            return new Layout(s.dim(0), s.dim(1), s.size() / Math.max(1, s.dim(0) * s.dim(1)));
        }

        int count() {
            return images * hw;
        }

        int plane(int n, int c) {
            return (n * channels + c) * hw;
        }

        int grain() {
            return Math.max(1, 16_384 / Math.max(1, count()));
        }
    }

    /** Training-mode BatchNorm; then max(·, 0) in the same pass when relu. */
    void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
               Tensor y, Tensor saveMean, Tensor saveInvStd, boolean relu) {
        ShapeChecks.requireShape(y, x.shape(), "batchNormTrain", "y");
        train(x, gamma, beta, runMean, runVar, momentum, eps, y, 0, saveMean, saveInvStd, relu);
    }

    /**
     * {@link #train} with y channels [yC0, yC0 + C) of a buffer of the same N, H and W and at least that many
     * channels (a concat's buffer: at batch &gt; 1 its channel ranges are not contiguous).
     */
    void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
               Tensor y, int yC0, Tensor saveMean, Tensor saveInvStd, boolean relu) {
        Layout l = Layout.of(x), yl = sliceLayout(l, y, yC0, "batchNormTrain", "y");
        float[] xd = x.data(), yd = y.data();
        int xo = x.offset(), yo = y.offset() + yC0 * l.hw();
        int m = l.count();
        // PyTorch refuses training-mode BN on one value per channel (the unbiased variance would divide by 0).
        if (m <= 1) {
            ShapeChecks.fail("batchNormTrain", "expected more than 1 value per channel, got " + x.shape());
        }
        boolean across = sumsAcross(l.hw());
        pool.parallelFor(l.channels(), l.grain(), (c0, c1) -> {
            float[] lanes = across ? new float[2 * L] : null;
            for (int c = c0; c < c1; c++) {
                double sum = channelSum(xd, xo + l.plane(0, c), l.channels() * l.hw(), l.images(), l.hw(), lanes);
                double mean = sum / m;
                double sq = 0;
                if (across) {
                    sq = sumSquaresPlanes(xd, xo + l.plane(0, c), l.channels() * l.hw(), l.images(), l.hw(), mean,
                            lanes);
                } else {
                    for (int n = 0; n < l.images(); n++) sq += sumSquares(xd, xo + l.plane(n, c), l.hw(), mean);
                }
                double var = sq / m;
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = scale((float) invStd, value(gamma, c, 1f));
                float shift = shift((float) mean, (float) invStd, value(gamma, c, 1f), value(beta, c, 0f));
                for (int n = 0; n < l.images(); n++) {
                    if (relu) affineRelu(xd, xo + l.plane(n, c), yd, yo + yl.plane(n, c), l.hw(), scale, shift);
                    else affine(xd, xo + l.plane(n, c), yd, yo + yl.plane(n, c), l.hw(), scale, shift);
                }
                if (saveMean != null) saveMean.set(c, (float) mean);
                if (saveInvStd != null) saveInvStd.set(c, (float) invStd);
                // PyTorch updates the running variance with the unbiased estimate.
                double unbiased = var * m / (m - 1);
                if (runMean != null) runMean.set(c, (float) ((1 - momentum) * runMean.get(c) + momentum * mean));
                if (runVar != null) runVar.set(c, (float) ((1 - momentum) * runVar.get(c) + momentum * unbiased));
            }
        });
    }

    /**
     * The layout of a buffer holding x's channels at [c0, c0 + C): the same N and plane size as x (rank 4 when x's
     * is), at least c0 + C channels; else a one-line error naming the op and the operand.
     */
    private static Layout sliceLayout(Layout l, Tensor t, int c0, String op, String name) {
        var s = t.shape();
        boolean ok = c0 >= 0 && s.rank() >= 2 && s.dim(0) == l.images() && s.dim(1) >= c0 + l.channels()
                && s.size() / Math.max(1, (long) s.dim(0) * s.dim(1)) == l.hw();
        if (!ok) {
            ShapeChecks.fail(op, name + " " + s + " cannot hold " + l.channels() + " channels of " + l.images()
                    + " images of " + l.hw() + " values at channel " + c0);
        }
        return new Layout(l.images(), s.dim(1), l.hw());
    }

    void eval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        Layout l = Layout.of(x);
        ShapeChecks.requireShape(y, x.shape(), "batchNormEval", "y");
        float[] xd = x.data(), yd = y.data();
        int xo = x.offset(), yo = y.offset();
        pool.parallelFor(l.images() * l.channels(), Math.max(1, 16_384 / Math.max(1, l.hw())), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int c = p % l.channels();
                double invStd = 1.0 / Math.sqrt(var.get(c) + (double) eps);
                double scale = invStd * value(gamma, c, 1f);
                float shift = (float) (value(beta, c, 0f) - mean.get(c) * scale);
                affine(xd, xo + p * l.hw(), yd, yo + p * l.hw(), l.hw(), (float) scale, shift);
            }
        });
    }

    /**
     * The affine pass's multiplier, γ·invStd, from the statistics as saved (floats): the backward of a ReLU after
     * this BatchNorm ({@link #backward} with relu) recomputes it, and with it each output's sign, bit for bit.
     */
    private static float scale(float invStd, float gamma) {
        return (float) ((double) invStd * gamma);
    }

    /** The affine pass's offset, β − mean·invStd·γ, from the saved statistics (see {@link #scale}). */
    private static float shift(float mean, float invStd, float gamma, float beta) {
        return (float) (beta - (double) mean * invStd * gamma);
    }

    /**
     * With x̂ = (x − mean)·invStd and M = N·H·W: dβ += Σ dy, dγ += Σ dy·x̂,
     * dx += γ·invStd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) when accumulate, dx = that otherwise.
     */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        backward(x, dy, gamma, null, saveMean, saveInvStd, dx, dgamma, dbeta, accumulate, false);
    }

    /**
     * {@link #backward}; with relu, first the backward of a ReLU on this BatchNorm's training output: each plane
     * of dy becomes dy where x·scale + shift &gt; 0, else +0 ({@link #maskPlane}, the same values as the ReLU op's
     * backward on that output, which is max(x·scale + shift, 0)), just before the plane's sums read it.
     */
    void backward(Tensor x, Tensor dy, Tensor gamma, Tensor beta, Tensor saveMean, Tensor saveInvStd,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate, boolean relu) {
        ShapeChecks.requireShape(dy, x.shape(), "batchNormBackward", "dy");
        backward(x, dy, 0, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta, accumulate, relu);
    }

    /** {@link #backward} with dy channels [dyC0, dyC0 + C) of a bigger buffer (see the slice form of train). */
    void backward(Tensor x, Tensor dy, int dyC0, Tensor gamma, Tensor beta, Tensor saveMean, Tensor saveInvStd,
                  Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate, boolean relu) {
        Layout l = Layout.of(x), gl = sliceLayout(l, dy, dyC0, "batchNormBackward", "dy");
        if (dx != null) ShapeChecks.requireShape(dx, x.shape(), "batchNormBackward", "dx");
        float[] xd = x.data(), gd = dy.data();
        int xo = x.offset(), go = dy.offset() + dyC0 * l.hw();
        int m = l.count();
        boolean across = sumsAcross(l.hw());
        pool.parallelFor(l.channels(), l.grain(), (c0, c1) -> {
            double[] sums = new double[2];
            float[] lanes = across ? new float[2 * L] : null;
            for (int c = c0; c < c1; c++) {
                float mean = saveMean.get(c), invStd = saveInvStd.get(c);
                if (relu) {
                    float gm = value(gamma, c, 1f), scale = scale(invStd, gm);
                    float shift = shift(mean, invStd, gm, value(beta, c, 0f));
                    for (int n = 0; n < l.images(); n++) {
                        maskPlane(xd, xo + l.plane(n, c), gd, go + gl.plane(n, c), l.hw(), scale, shift);
                    }
                }
                sums[0] = 0;
                sums[1] = 0;
                if (across) {
                    dySumsPlanes(xd, xo + l.plane(0, c), gd, go + gl.plane(0, c), l.channels() * l.hw(),
                            gl.channels() * l.hw(), l.images(), l.hw(), mean, sums, lanes);
                } else {
                    for (int n = 0; n < l.images(); n++) {
                        dySums(xd, xo + l.plane(n, c), gd, go + gl.plane(n, c), l.hw(), mean, sums);
                    }
                }
                double sumDy = sums[0], sumDyXhat = sums[1] * invStd;
                if (dbeta != null) dbeta.set(c, dbeta.get(c) + (float) sumDy);
                if (dgamma != null) dgamma.set(c, dgamma.get(c) + (float) sumDyXhat);
                if (dx == null) continue;
                float k = value(gamma, c, 1f) * invStd;
                float meanDy = (float) (sumDy / m), meanDyXhat = (float) (sumDyXhat / m);
                float[] dxd = dx.data();
                for (int n = 0; n < l.images(); n++) {
                    int ox = xo + l.plane(n, c), og = go + gl.plane(n, c), od = dx.offset() + l.plane(n, c);
                    if (VECTOR_PLANES) {
                        dxPlane(xd, ox, gd, og, dxd, od, l.hw(), mean, invStd, k, meanDy, meanDyXhat, accumulate);
                    } else if (accumulate) {
                        for (int q = 0; q < l.hw(); q++) {
                            float xhat = (xd[ox + q] - mean) * invStd;
                            dxd[od + q] += k * (gd[og + q] - meanDy - xhat * meanDyXhat);
                        }
                    } else { // 0 + v, as the accumulating form on a zeroed dx computes it (−0 becomes +0)
                        for (int q = 0; q < l.hw(); q++) {
                            float xhat = (xd[ox + q] - mean) * invStd;
                            dxd[od + q] = 0f + k * (gd[og + q] - meanDy - xhat * meanDyXhat);
                        }
                    }
                }
            }
        });
    }

    /**
     * -Dnetslim.bn.vectorPlanes=false: the affine and input-gradient passes as scalar loops (C2 did not vectorize the
     * gradient's: GoogLeNet's BatchNorm backward at batch 8 took 1.4–2x as long). Same bits either way. Not final:
     * tests and probes flip it.
     */
    static boolean VECTOR_PLANES = !"false".equals(System.getProperty("netslim.bn.vectorPlanes"));

    /**
     * One plane of the input gradient: v = k·((dy − meanDy) − x̂·meanDyXhat) with x̂ = (x − mean)·invStd; dx += v
     * when accumulate, else dx = 0 + v (−0 becomes +0, as on a zeroed dx). In vector lanes with the scalar loop's
     * operations in its order (no fused multiply-add), so the same bits.
     */
    private static void dxPlane(float[] x, int xo, float[] g, int go, float[] dx, int od, int len, float mean,
                                float invStd, float k, float meanDy, float meanDyXhat, boolean accumulate) {
        int q = 0;
        for (int end = S.loopBound(len); q < end; q += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, xo + q).sub(mean).mul(invStd);
            FloatVector v = FloatVector.fromArray(S, g, go + q).sub(meanDy).sub(xhat.mul(meanDyXhat)).mul(k);
            FloatVector base = accumulate ? FloatVector.fromArray(S, dx, od + q) : FloatVector.zero(S);
            base.add(v).intoArray(dx, od + q);
        }
        for (; q < len; q++) {
            float xhat = (x[xo + q] - mean) * invStd;
            float v = k * (g[go + q] - meanDy - xhat * meanDyXhat);
            dx[od + q] = accumulate ? dx[od + q] + v : 0f + v;
        }
    }

    /**
     * g = g where x·scale + shift &gt; 0, else +0, over [0, len) in place: the ReLU's backward on max(x·scale + shift,
     * 0) as {@code CpuBackend.reluBackwardInto} computes it (0 + g where the output is positive; a NaN output passes
     * nothing), the output recomputed with the affine pass's operations (a multiply, then an add).
     */
    private static void maskPlane(float[] x, int xo, float[] g, int go, int len, float scale, float shift) {
        int q = 0;
        for (int end = S.loopBound(len); q < end; q += L) {
            VectorMask<Float> on = FloatVector.fromArray(S, x, xo + q).mul(scale).add(shift)
                    .compare(VectorOperators.GT, 0f);
            ZERO.add(FloatVector.fromArray(S, g, go + q), on).intoArray(g, go + q);
        }
        for (; q < len; q++) g[go + q] = x[xo + q] * scale + shift > 0f ? 0f + g[go + q] : 0f;
    }

    private static float value(Tensor t, int i, float missing) {
        return t == null ? missing : t.get(i);
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Floats per block summed in float lanes before the block's sum joins the double total (16 terms per lane). */
    static final int BLOCK = 16 * 16;

    /**
     * Σ d[o, o + len), in double: planes of at least {@link #BLOCK} floats in blocks summed in float vector lanes,
     * smaller ones one element at a time (there a lane reduction per plane cost more than it saved: GoogLeNet's
     * 7x7 and 14x14 BNs at batch 8 ran 1.2–1.4x slower that way).
     */
    static double sumPlane(float[] d, int o, int len) {
        double s = 0;
        int q = 0, bound = len < BLOCK ? 0 : S.loopBound(len);
        while (q < bound) {
            int end = Math.min(bound, q + BLOCK);
            FloatVector a = FloatVector.zero(S);
            for (; q < end; q += L) a = a.add(FloatVector.fromArray(S, d, o + q));
            s += a.reduceLanes(VectorOperators.ADD);
        }
        for (; q < len; q++) s += d[o + q];
        return s;
    }

    /** Σ (d[o + q] − mean)², as {@link #sumPlane} (mean rounded to float for the lanes). */
    static double sumSquares(float[] d, int o, int len, double mean) {
        double s = 0;
        float m = (float) mean;
        int q = 0, bound = len < BLOCK ? 0 : S.loopBound(len);
        while (q < bound) {
            int end = Math.min(bound, q + BLOCK);
            FloatVector a = FloatVector.zero(S);
            for (; q < end; q += L) {
                FloatVector t = FloatVector.fromArray(S, d, o + q).sub(m);
                a = t.fma(t, a);
            }
            s += a.reduceLanes(VectorOperators.ADD);
        }
        for (; q < len; q++) {
            double t = d[o + q] - mean;
            s += t * t;
        }
        return s;
    }

    /**
     * -Dnetslim.bn.acrossPlanes=false: a channel's sums plane by plane, planes under {@link #BLOCK} floats one element
     * at a time. Not final: tests and probes flip it.
     */
    static boolean ACROSS_PLANES = !"false".equals(System.getProperty("netslim.bn.acrossPlanes"));

    /**
     * Whether a channel's sums run across its planes of hw floats ({@link #sumPlanes}): planes under {@link #BLOCK}
     * floats that hold at least one vector (GoogLeNet's 14x14 and 7x7 maps), which {@link #sumPlane} sums one element
     * at a time.
     */
    static boolean sumsAcross(int hw) {
        return ACROSS_PLANES && hw < BLOCK && hw >= L;
    }

    /**
     * Σ of one channel's images planes of hw floats (the first at o, each stride after the last), in double, as the
     * statistics sum them: across the planes ({@link #sumPlanes}; lanes: {@link #LANES} floats) where {@link
     * #sumsAcross}, else plane by plane ({@link #sumPlane}; lanes unused). Also the conv bias gradient's per-channel
     * sum of dy.
     */
    static double channelSum(float[] d, int o, int stride, int images, int hw, float[] lanes) {
        if (sumsAcross(hw)) return sumPlanes(d, o, stride, images, hw, lanes);
        double s = 0;
        for (int n = 0; n < images; n++) s += sumPlane(d, o + n * stride, hw);
        return s;
    }

    /** Floats {@link #channelSum}'s lanes must hold. */
    static final int LANES = 2 * L;

    /** Planes per float block of {@link #sumPlanes}: whole planes of vectors, at most {@link #BLOCK} floats. */
    private static int planesPerBlock(int len) {
        return Math.max(1, BLOCK / S.loopBound(len));
    }

    /**
     * Σ over {@code images} planes of len floats (the first at o, each stride after the last), in double: each
     * plane's whole vectors summed in float lanes across consecutive planes up to {@link #BLOCK} floats a block (one
     * lane reduction a block, not one a plane), its last len mod L elements one at a time. The lanes carry from plane
     * to plane through a small array ({@code lanes}, 2L floats): a vector carried across the nested loops was boxed
     * by C2 (10 MB allocated per 8x256x14x14 BatchNorm).
     */
    static double sumPlanes(float[] d, int o, int stride, int images, int len, float[] lanes) {
        double s = 0;
        int bound = S.loopBound(len), per = planesPerBlock(len);
        for (int n0 = 0; n0 < images; n0 += per) {
            ZERO.intoArray(lanes, 0);
            for (int n = n0, end = Math.min(images, n0 + per); n < end; n++) {
                int p = o + n * stride;
                addVectors(d, p, bound, lanes);
                for (int q = bound; q < len; q++) s += d[p + q];
            }
            s += FloatVector.fromArray(S, lanes, 0).reduceLanes(VectorOperators.ADD);
        }
        return s;
    }

    private static final FloatVector ZERO = FloatVector.zero(S);

    /** lanes[0, L) += the L-lane sums of d[p, p + bound). */
    private static void addVectors(float[] d, int p, int bound, float[] lanes) {
        FloatVector a = FloatVector.fromArray(S, lanes, 0);
        for (int q = 0; q < bound; q += L) a = a.add(FloatVector.fromArray(S, d, p + q));
        a.intoArray(lanes, 0);
    }

    /** Σ (d − mean)² over planes as {@link #sumPlanes} (mean rounded to float for the lanes, as {@link #sumSquares}). */
    static double sumSquaresPlanes(float[] d, int o, int stride, int images, int len, double mean, float[] lanes) {
        double s = 0;
        float m = (float) mean;
        int bound = S.loopBound(len), per = planesPerBlock(len);
        for (int n0 = 0; n0 < images; n0 += per) {
            ZERO.intoArray(lanes, 0);
            for (int n = n0, end = Math.min(images, n0 + per); n < end; n++) {
                int p = o + n * stride;
                addSquares(d, p, bound, m, lanes);
                for (int q = bound; q < len; q++) {
                    double t = d[p + q] - mean;
                    s += t * t;
                }
            }
            s += FloatVector.fromArray(S, lanes, 0).reduceLanes(VectorOperators.ADD);
        }
        return s;
    }

    /** lanes[0, L) += the L-lane sums of (d − m)² over d[p, p + bound). */
    private static void addSquares(float[] d, int p, int bound, float m, float[] lanes) {
        FloatVector a = FloatVector.fromArray(S, lanes, 0);
        for (int q = 0; q < bound; q += L) {
            FloatVector t = FloatVector.fromArray(S, d, p + q).sub(m);
            a = t.fma(t, a);
        }
        a.intoArray(lanes, 0);
    }

    /** {@link #dySums} over planes as {@link #sumPlanes} (x's planes stride apart, g's gStride). */
    private static void dySumsPlanes(float[] x, int xo, float[] g, int go, int stride, int gStride, int images,
                                     int len, float mean, double[] out, float[] lanes) {
        double s0 = 0, s1 = 0;
        int bound = S.loopBound(len), per = planesPerBlock(len);
        for (int n0 = 0; n0 < images; n0 += per) {
            ZERO.intoArray(lanes, 0);
            ZERO.intoArray(lanes, L);
            for (int n = n0, end = Math.min(images, n0 + per); n < end; n++) {
                int px = xo + n * stride, pg = go + n * gStride;
                addDy(x, px, g, pg, bound, mean, lanes);
                for (int q = bound; q < len; q++) {
                    double gq = g[pg + q];
                    s0 += gq;
                    s1 += gq * (x[px + q] - mean);
                }
            }
            s0 += FloatVector.fromArray(S, lanes, 0).reduceLanes(VectorOperators.ADD);
            s1 += FloatVector.fromArray(S, lanes, L).reduceLanes(VectorOperators.ADD);
        }
        out[0] += s0;
        out[1] += s1;
    }

    /** lanes[0, L) += the lane sums of g, lanes[L, 2L) += those of g·(x − mean), over [0, bound) of the planes. */
    private static void addDy(float[] x, int px, float[] g, int pg, int bound, float mean, float[] lanes) {
        FloatVector a = FloatVector.fromArray(S, lanes, 0), b = FloatVector.fromArray(S, lanes, L);
        for (int q = 0; q < bound; q += L) {
            FloatVector gv = FloatVector.fromArray(S, g, pg + q);
            a = a.add(gv);
            b = FloatVector.fromArray(S, x, px + q).sub(mean).fma(gv, b);
        }
        a.intoArray(lanes, 0);
        b.intoArray(lanes, L);
    }

    /** out[0] += Σ g[go + q], out[1] += Σ g[go + q]·(x[xo + q] − mean) over q in [0, len), as {@link #sumPlane}. */
    private static void dySums(float[] x, int xo, float[] g, int go, int len, float mean, double[] out) {
        double s0 = 0, s1 = 0;
        int q = 0, bound = len < BLOCK ? 0 : S.loopBound(len);
        while (q < bound) {
            int end = Math.min(bound, q + BLOCK);
            FloatVector a = FloatVector.zero(S), b = FloatVector.zero(S);
            for (; q < end; q += L) {
                FloatVector gv = FloatVector.fromArray(S, g, go + q);
                a = a.add(gv);
                b = FloatVector.fromArray(S, x, xo + q).sub(mean).fma(gv, b);
            }
            s0 += a.reduceLanes(VectorOperators.ADD);
            s1 += b.reduceLanes(VectorOperators.ADD);
        }
        for (; q < len; q++) {
            double gq = g[go + q];
            s0 += gq;
            s1 += gq * (x[xo + q] - mean);
        }
        out[0] += s0;
        out[1] += s1;
    }

    /** {@link #affine}, then max(·, 0) (Math.max semantics: NaN stays NaN), as the ReLU op would after it. */
    private static void affineRelu(float[] x, int xo, float[] y, int yo, int len, float scale, float shift) {
        int q = 0;
        for (int end = S.loopBound(len); q < end; q += L) {
            FloatVector.fromArray(S, x, xo + q).mul(scale).add(shift).max(0f).intoArray(y, yo + q);
        }
        for (; q < len; q++) y[yo + q] = Math.max(x[xo + q] * scale + shift, 0f);
    }

    /** y = x·scale + shift over [0, len): in vector lanes, a multiply then an add (no fused multiply-add). */
    private static void affine(float[] x, int xo, float[] y, int yo, int len, float scale, float shift) {
        int q = 0;
        if (VECTOR_PLANES) {
            for (int end = S.loopBound(len); q < end; q += L) {
                FloatVector.fromArray(S, x, xo + q).mul(scale).add(shift).intoArray(y, yo + q);
            }
        }
        for (; q < len; q++) y[yo + q] = x[xo + q] * scale + shift;
    }
}
