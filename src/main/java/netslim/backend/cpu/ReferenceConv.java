package netslim.backend.cpu;

import static netslim.backend.cpu.ShapeChecks.require;
import static netslim.backend.cpu.ShapeChecks.requireRank;
import static netslim.backend.cpu.ShapeChecks.requireShape;

import netslim.backend.ConvSpec;
import netslim.tensor.Tensor;

/**
 * Direct-loop convolution and im2col / col2im for {@link ReferenceKernels}: the definition that the im2col + GEMM
 * paths of the fast backends are tested against. Sums are accumulated in double.
 *
 * <p>Index map (PyTorch's {@code nn.Conv2d}): output (n, o, oy, ox) of group {@code g = o / (out/groups)} reads
 * input channel {@code g * (in/groups) + ci} at row {@code oy*strideH - padH + i*dilationH} and column
 * {@code ox*strideW - padW + j*dilationW} for kernel tap (ci, i, j); taps outside the image read zero.
 */
final class ReferenceConv {
    private ReferenceConv() {
    }

    /** The checked sizes of one convolution call: batch, input plane, output plane. */
    private record Dims(int n, int h, int w, int oh, int ow) {
    }

    /** Checks x (N, in, H, W), w (out, in/groups, kh, kw) and y (N, out, oh, ow); y may be dy. */
    private static Dims check(Tensor x, Tensor w, Tensor y, ConvSpec s, String op) {
        requireRank(x, 4, op, "x");
        require(x.shape().c() == s.inChannels(), op, "x " + x.shape() + " has " + x.shape().c()
                + " channels, spec expects " + s.inChannels());
        int h = x.shape().h(), wd = x.shape().w(), oh = s.outH(h), ow = s.outW(wd);
        require(oh > 0 && ow > 0, op, "input " + x.shape() + " is smaller than the dilated kernel of " + s);
        requireShape(w, op, "w", s.outChannels(), s.inChannels() / s.groups(), s.kh(), s.kw());
        requireShape(y, op, "y", x.shape().n(), s.outChannels(), oh, ow);
        return new Dims(x.shape().n(), h, wd, oh, ow);
    }

    static void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        Dims d = check(x, w, y, s, "conv2d");
        if (bias != null) requireShape(bias, "conv2d", "bias", s.outChannels());
        float[] xd = x.data(), wdat = w.data(), yd = y.data();
        int cinG = s.inChannels() / s.groups(), coutG = s.outChannels() / s.groups();
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < s.outChannels(); o++) {
                int c0 = (o / coutG) * cinG;
                for (int oy = 0; oy < d.oh; oy++) {
                    for (int ox = 0; ox < d.ow; ox++) {
                        double acc = bias == null ? 0 : bias.get(o);
                        for (int ci = 0; ci < cinG; ci++) {
                            for (int i = 0; i < s.kh(); i++) {
                                int iy = oy * s.strideH() - s.padH() + i * s.dilationH();
                                if (iy < 0 || iy >= d.h) continue;
                                for (int j = 0; j < s.kw(); j++) {
                                    int ix = ox * s.strideW() - s.padW() + j * s.dilationW();
                                    if (ix < 0 || ix >= d.w) continue;
                                    acc += (double) xd[x.offset() + ((n * s.inChannels() + c0 + ci) * d.h + iy) * d.w + ix]
                                            * wdat[w.offset() + ((o * cinG + ci) * s.kh() + i) * s.kw() + j];
                                }
                            }
                        }
                        yd[y.offset() + ((n * s.outChannels() + o) * d.oh + oy) * d.ow + ox] = (float) acc;
                    }
                }
            }
        }
    }

    /**
     * Adds the gradients of {@link #conv2d} into dx, dw, db (each may be null): every (output, tap) pair that the
     * forward pass multiplied contributes dy·w to dx and dy·x to dw; db sums dy. Accumulated in double buffers.
     */
    static void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        Dims d = check(x, w, dy, s, "conv2dBackward");
        if (dx != null) requireShape(dx, x.shape(), "conv2dBackward", "dx");
        if (dw != null) requireShape(dw, w.shape(), "conv2dBackward", "dw");
        if (db != null) requireShape(db, "conv2dBackward", "db", s.outChannels());
        double[] dxAcc = dx == null ? null : new double[dx.size()];
        double[] dwAcc = dw == null ? null : new double[dw.size()];
        double[] dbAcc = new double[s.outChannels()];
        float[] xd = x.data(), wdat = w.data(), dyd = dy.data();
        int cinG = s.inChannels() / s.groups(), coutG = s.outChannels() / s.groups();
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < s.outChannels(); o++) {
                int c0 = (o / coutG) * cinG;
                for (int oy = 0; oy < d.oh; oy++) {
                    for (int ox = 0; ox < d.ow; ox++) {
                        double g = dyd[dy.offset() + ((n * s.outChannels() + o) * d.oh + oy) * d.ow + ox];
                        dbAcc[o] += g;
                        for (int ci = 0; ci < cinG; ci++) {
                            for (int i = 0; i < s.kh(); i++) {
                                int iy = oy * s.strideH() - s.padH() + i * s.dilationH();
                                if (iy < 0 || iy >= d.h) continue;
                                for (int j = 0; j < s.kw(); j++) {
                                    int ix = ox * s.strideW() - s.padW() + j * s.dilationW();
                                    if (ix < 0 || ix >= d.w) continue;
                                    int xi = ((n * s.inChannels() + c0 + ci) * d.h + iy) * d.w + ix;
                                    int wi = ((o * cinG + ci) * s.kh() + i) * s.kw() + j;
                                    if (dxAcc != null) dxAcc[xi] += g * wdat[w.offset() + wi];
                                    if (dwAcc != null) dwAcc[wi] += g * xd[x.offset() + xi];
                                }
                            }
                        }
                    }
                }
            }
        }
        ReferenceKernels.addRounded(dx, dxAcc);
        ReferenceKernels.addRounded(dw, dwAcc);
        if (db != null) ReferenceKernels.addRounded(db, dbAcc);
    }

    /** Checks image/col against the Javadoc layout; returns {C, H, W, oh, ow}. */
    private static int[] checkCol(Tensor x, int image, ConvSpec s, Tensor col, String op) {
        requireRank(x, 4, op, "image tensor");
        require(image >= 0 && image < x.shape().n(), op, "image " + image + " outside batch of " + x.shape());
        int c = x.shape().c(), h = x.shape().h(), w = x.shape().w(), oh = s.outH(h), ow = s.outW(w);
        require(oh > 0 && ow > 0, op, "input " + x.shape() + " is smaller than the dilated kernel of " + s);
        long need = (long) c * s.kh() * s.kw() * oh * ow;
        require(col.size() == need, op, "col " + col.shape() + " must hold (" + c + "*" + s.kh() + "*" + s.kw()
                + ") x (" + oh + "*" + ow + ") = " + need + " elements");
        return new int[] {c, h, w, oh, ow};
    }

    /**
     * col[(c*kh + i)*kw + j][oy*ow + ox] = x[image, c, oy*sh - ph + i*dh, ox*sw - pw + j*dw], zero in the padding.
     * C is x's channel count (all groups; group g's rows are the contiguous block of its channels).
     */
    static void im2col(Tensor x, int image, ConvSpec s, Tensor col) {
        int[] g = checkCol(x, image, s, col, "im2col");
        unfold(x, image, s, col, g, false);
    }

    /** The adjoint of {@link #im2col}: dx[image] += fold(col). Float adds, in a fixed (row-major col) order. */
    static void col2im(Tensor col, ConvSpec s, Tensor dx, int image) {
        int[] g = checkCol(dx, image, s, col, "col2im");
        unfold(dx, image, s, col, g, true);
    }

    /** One loop nest for both directions so the two can never disagree on the index map. */
    private static void unfold(Tensor x, int image, ConvSpec s, Tensor col, int[] g, boolean fold) {
        int c = g[0], h = g[1], w = g[2], oh = g[3], ow = g[4];
        float[] xd = x.data(), cd = col.data();
        int xBase = x.offset() + image * c * h * w;
        int row = 0;
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < s.kh(); i++) {
                for (int j = 0; j < s.kw(); j++, row++) {
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * s.strideH() - s.padH() + i * s.dilationH();
                        for (int ox = 0; ox < ow; ox++) {
                            int ix = ox * s.strideW() - s.padW() + j * s.dilationW();
                            int ci = col.offset() + (row * oh + oy) * ow + ox;
                            boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                            int xi = xBase + (ch * h + iy) * w + ix;
                            if (fold) {
                                if (inside) xd[xi] += cd[ci];
                            } else {
                                cd[ci] = inside ? xd[xi] : 0f;
                            }
                        }
                    }
                }
            }
        }
    }
}
