package netslim.backend.cpu;

import java.util.Arrays;
import netslim.backend.ConvSpec;

/**
 * Direct depthwise convolution (groups == in == out): each channel plane is convolved with its own kh x kw filter.
 * No GEMM (a 1-row GEMM per channel would waste it); forward is parallel over the N·C planes, backward over
 * channels (each task owns dx, dw and db of its channel, looping over the images).
 */
final class DepthwiseConv {
    private final WorkerPool pool;

    DepthwiseConv(WorkerPool pool) {
        this.pool = pool;
    }

    /** y = depthwise(x, w) + bias; offsets are element offsets of each tensor's first element. */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] y, int yOff,
                 Im2col.Geometry g, int images) {
        int planes = images * g.channels();
        int grain = Math.max(1, 8192 / Math.max(1, g.planeOut() * g.taps()));
        pool.parallelFor(planes, grain, (p0, p1) -> {
            for (int p = p0; p < p1; p++) forwardPlane(x, xOff, w, wOff, bias, bOff, y, yOff, g, p);
        });
    }

    private static void forwardPlane(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff,
                                     float[] y, int yOff, Im2col.Geometry g, int plane) {
        int c = plane % g.channels();
        int out = yOff + plane * g.planeOut();
        Arrays.fill(y, out, out + g.planeOut(), bias == null ? 0f : bias[bOff + c]);
        int sw = g.spec().strideW();
        forEachTap(g, (i, j, oy, lo, hi, iy, shift) -> {
            float wv = w[wOff + c * g.taps() + i * g.spec().kw() + j];
            int src = xOff + plane * g.planeIn() + iy * g.w() + shift;
            int dst = out + oy * g.outW();
            for (int ox = lo; ox < hi; ox++) y[dst + ox] += wv * x[src + ox * sw];
        });
    }

    /** dx += ∂/∂x, dw += ∂/∂w, db += Σ dy (each may be null). */
    void backward(float[] x, int xOff, float[] w, int wOff, float[] dy, int dyOff,
                  float[] dx, int dxOff, float[] dw, int dwOff, float[] db, int dbOff,
                  Im2col.Geometry g, int images) {
        int channels = g.channels();
        pool.parallelFor(channels, 1, (c0, c1) -> {
            double[] dwAcc = new double[g.taps()];
            for (int c = c0; c < c1; c++) {
                final int ch = c;
                Arrays.fill(dwAcc, 0);
                double dbAcc = 0;
                for (int n = 0; n < images; n++) {
                    int plane = n * channels + ch;
                    int dyPlane = dyOff + plane * g.planeOut();
                    if (db != null) {
                        for (int q = 0; q < g.planeOut(); q++) dbAcc += dy[dyPlane + q];
                    }
                    forEachTap(g, (i, j, oy, lo, hi, iy, shift) -> {
                        int tap = i * g.spec().kw() + j;
                        int in = plane * g.planeIn() + iy * g.w() + shift;
                        int d = dyPlane + oy * g.outW();
                        int sw = g.spec().strideW();
                        if (dx != null) {
                            float wv = w[wOff + ch * g.taps() + tap];
                            for (int ox = lo; ox < hi; ox++) dx[dxOff + in + ox * sw] += wv * dy[d + ox];
                        }
                        if (dw != null) {
                            float acc = 0;
                            for (int ox = lo; ox < hi; ox++) acc += dy[d + ox] * x[xOff + in + ox * sw];
                            dwAcc[tap] += acc;
                        }
                    });
                }
                if (db != null) db[dbOff + ch] += (float) dbAcc;
                if (dw != null) {
                    for (int t = 0; t < g.taps(); t++) dw[dwOff + ch * g.taps() + t] += (float) dwAcc[t];
                }
            }
        });
    }

    /** Visits each (kernel tap, output row) pair whose input row is inside the image, with its valid ox range. */
    private static void forEachTap(Im2col.Geometry g, TapRow body) {
        ConvSpec s = g.spec();
        for (int oy = 0; oy < g.outH(); oy++) {
            for (int i = 0; i < s.kh(); i++) {
                int iy = ConvWindow.inputRow(s, oy, i);
                if (iy < 0 || iy >= g.h()) continue;
                for (int j = 0; j < s.kw(); j++) {
                    int shift = ConvWindow.shift(s, j);
                    int lo = ConvWindow.firstValid(shift, s.strideW(), g.outW());
                    int hi = ConvWindow.endValid(shift, s.strideW(), g.w(), g.outW(), lo);
                    body.run(i, j, oy, lo, hi, iy, shift);
                }
            }
        }
    }

    @FunctionalInterface
    private interface TapRow {
        void run(int i, int j, int oy, int lo, int hi, int iy, int shift);
    }
}
