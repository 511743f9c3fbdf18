package netslim.backend.cpu;

import static netslim.backend.cpu.ShapeChecks.require;
import static netslim.backend.cpu.ShapeChecks.requireRank;
import static netslim.backend.cpu.ShapeChecks.requireShape;

import netslim.backend.PoolSpec;
import netslim.tensor.Tensor;

/**
 * Max, average and global average pooling for {@link ReferenceKernels}, following PyTorch's CPU kernels
 * ({@code aten/src/ATen/native/cpu/MaxPoolKernel.cpp}, {@code AvgPoolKernel.cpp}) index for index.
 */
final class ReferencePool {
    private ReferencePool() {
    }

    /** Checks x (N, C, H, W) and y (N, C, outH, outW) (y may be dy, x may be dx). */
    private static void check(Tensor x, Tensor y, PoolSpec s, String op) {
        requireRank(x, 4, op, "x");
        int oh = s.outH(x.shape().h()), ow = s.outW(x.shape().w());
        require(oh > 0 && ow > 0, op, "input " + x.shape() + " is smaller than the window of " + s);
        requireShape(y, op, "y", x.shape().n(), x.shape().c(), oh, ow);
    }

    /**
     * Index (within its H x W plane) of the element max pooling picks for output (oy, ox): the valid window
     * positions are scanned row by row and a later element replaces the current one only if it is strictly
     * greater or NaN, so ties go to the first maximum in scan order and NaN propagates (to the last NaN of the
     * window, exactly as PyTorch's {@code (val > maxval) || isnan(val)} test does).
     * Padding counts as -infinity, i.e. it is never picked; with PoolSpec's padding ≤ kernel/2 rule and its ceil
     * rule every window holds at least one real element.
     */
    private static int argMax(float[] d, int plane, int h, int w, int oy, int ox, PoolSpec s) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int y1 = Math.min(y0 + s.kh(), h), x1 = Math.min(x0 + s.kw(), w);
        y0 = Math.max(y0, 0);
        x0 = Math.max(x0, 0);
        int best = y0 * w + x0;
        float max = Float.NEGATIVE_INFINITY;
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = x0; ix < x1; ix++) {
                float v = d[plane + iy * w + ix];
                if (v > max || Float.isNaN(v)) {
                    max = v;
                    best = iy * w + ix;
                }
            }
        }
        return best;
    }

    static void maxPool(Tensor x, Tensor y, PoolSpec s) {
        check(x, y, s, "maxPool");
        int planes = x.shape().n() * x.shape().c(), h = x.shape().h(), w = x.shape().w();
        int oh = y.shape().h(), ow = y.shape().w();
        float[] xd = x.data(), yd = y.data();
        for (int p = 0; p < planes; p++) {
            int plane = x.offset() + p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    yd[y.offset() + (p * oh + oy) * ow + ox] = xd[plane + argMax(xd, plane, h, w, oy, ox, s)];
                }
            }
        }
    }

    /** dx[argmax of each window] += dy (windows may overlap; the sum is accumulated in double). */
    static void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        check(x, dy, s, "maxPoolBackward");
        requireShape(dx, x.shape(), "maxPoolBackward", "dx");
        int planes = x.shape().n() * x.shape().c(), h = x.shape().h(), w = x.shape().w();
        int oh = dy.shape().h(), ow = dy.shape().w();
        float[] xd = x.data(), dyd = dy.data();
        double[] acc = new double[dx.size()];
        for (int p = 0; p < planes; p++) {
            int plane = x.offset() + p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    acc[p * h * w + argMax(xd, plane, h, w, oy, ox, s)] += dyd[dy.offset() + (p * oh + oy) * ow + ox];
                }
            }
        }
        ReferenceKernels.addRounded(dx, acc);
    }

    /** The clipped window [y0, y1) x [x0, x1) of one average-pool output and the divisor PyTorch uses for it. */
    private record AvgWindow(int y0, int y1, int x0, int x1, int divisor) {
        boolean empty() {
            return y0 >= y1 || x0 >= x1;
        }
    }

    /**
     * PyTorch's rule: the window end is first clipped to the padded input (min(start + k, H + pad)), giving
     * pool_size = (y1 - y0)(x1 - x0) that still counts padding but not the part of a ceil-mode window hanging
     * past the padding; the window is then clipped to the real input. The divisor is pool_size with
     * count_include_pad, else the clipped element count. An empty window outputs 0.
     */
    private static AvgWindow avgWindow(int oy, int ox, int h, int w, PoolSpec s) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int y1 = Math.min(y0 + s.kh(), h + s.padH()), x1 = Math.min(x0 + s.kw(), w + s.padW());
        int poolSize = (y1 - y0) * (x1 - x0);
        y0 = Math.max(y0, 0);
        x0 = Math.max(x0, 0);
        y1 = Math.min(y1, h);
        x1 = Math.min(x1, w);
        int divisor = s.countIncludePad() ? poolSize : (y1 - y0) * (x1 - x0);
        return new AvgWindow(y0, y1, x0, x1, divisor);
    }

    static void avgPool(Tensor x, Tensor y, PoolSpec s) {
        check(x, y, s, "avgPool");
        int planes = x.shape().n() * x.shape().c(), h = x.shape().h(), w = x.shape().w();
        int oh = y.shape().h(), ow = y.shape().w();
        float[] xd = x.data(), yd = y.data();
        for (int p = 0; p < planes; p++) {
            int plane = x.offset() + p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    AvgWindow win = avgWindow(oy, ox, h, w, s);
                    double sum = 0;
                    for (int iy = win.y0(); iy < win.y1(); iy++) {
                        for (int ix = win.x0(); ix < win.x1(); ix++) sum += xd[plane + iy * w + ix];
                    }
                    yd[y.offset() + (p * oh + oy) * ow + ox] = win.empty() ? 0f : (float) (sum / win.divisor());
                }
            }
        }
    }

    /** dx += dy / divisor over each window's clipped elements (the adjoint of {@link #avgPool}). */
    static void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s) {
        check(dx, dy, s, "avgPoolBackward");
        int planes = dx.shape().n() * dx.shape().c(), h = dx.shape().h(), w = dx.shape().w();
        int oh = dy.shape().h(), ow = dy.shape().w();
        float[] dyd = dy.data();
        double[] acc = new double[dx.size()];
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    AvgWindow win = avgWindow(oy, ox, h, w, s);
                    if (win.empty()) continue;
                    double g = (double) dyd[dy.offset() + (p * oh + oy) * ow + ox] / win.divisor();
                    for (int iy = win.y0(); iy < win.y1(); iy++) {
                        for (int ix = win.x0(); ix < win.x1(); ix++) acc[p * h * w + iy * w + ix] += g;
                    }
                }
            }
        }
        ReferenceKernels.addRounded(dx, acc);
    }

    /** Checks x (N, C, H, W) and y (N, C, 1, 1); returns H·W. */
    private static int checkGlobal(Tensor x, Tensor y, String op) {
        requireRank(x, 4, op, "x");
        requireShape(y, op, "y", x.shape().n(), x.shape().c(), 1, 1);
        return x.shape().h() * x.shape().w();
    }

    static void globalAvgPool(Tensor x, Tensor y) {
        int hw = checkGlobal(x, y, "globalAvgPool");
        float[] xd = x.data(), yd = y.data();
        for (int p = 0; p < y.size(); p++) {
            double sum = 0;
            for (int i = 0; i < hw; i++) sum += xd[x.offset() + p * hw + i];
            yd[y.offset() + p] = (float) (sum / hw);
        }
    }

    static void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        int hw = checkGlobal(dx, dy, "globalAvgPoolBackward");
        float[] dxd = dx.data();
        for (int p = 0; p < dy.size(); p++) {
            float g = (float) ((double) dy.get(p) / hw);
            for (int i = 0; i < hw; i++) dxd[dx.offset() + p * hw + i] += g;
        }
    }
}
