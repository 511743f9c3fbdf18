package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pointwise convs with few input channels or few output channels — the 1x1 ends of a Tucker-2 chain at low rank
 * (K → r and r → K with r of 2–16) — computed directly on NCHW: y[n][o][p] = b[o] + Σ_c w[o][c]·x[n][c][p] (then
 * max(0, ·)), a block of pixels at a time, one vector FMA per weight and pixel vector. A GEMM of that shape is
 * degenerate: with K = 2 it streams C through memory three times (OpenBLAS's output staging, the copy back, the
 * bias/ReLU pass) for two multiply-adds per element, and with M = 2 it is a pair of matrix-vector products run through
 * GEMM packing (compressed GoogLeNet's conv1 1x1 64 ← 2 at 112x112 took 0.76 ms, 2.1 GMAC/s; bench/RESULTS.md,
 * session 6). Here each output is written once, and the input block (C x 32 floats) is reread from L1.
 */
final class SkinnyPointwise {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Pixels per work item: four vectors, four independent accumulator chains per output channel. */
    private static final int BLOCK = 4 * L;

    /** The shapes this kernel takes: at most this many input channels, or at most this many output channels. */
    static final int MAX_IN = 8, MAX_OUT = 8;

    private SkinnyPointwise() {
    }

    /** A pointwise conv with {@code cin} inputs and {@code cout} outputs this kernel should run. */
    static boolean takes(int cin, int cout) {
        return ENABLED && VectorGemm.VECTOR_BY_DEFAULT && (cin <= MAX_IN || cout <= MAX_OUT);
    }

    private static final boolean ENABLED = !"false".equals(System.getProperty("netslim.conv.skinny1x1"));

    /**
     * y (N, cout, hw) = w (cout, cin) · x (N, cin, hw) per image, + bias (may be null), then ReLU when asked; the work
     * is (image, pixel block) items spread over the pool.
     */
    static void forward(WorkerPool pool, int images, int cin, int cout, int hw, float[] x, int xo, float[] w, int wo,
                        float[] bias, int bo, float[] y, int yo, boolean relu) {
        int blocks = (hw + BLOCK - 1) / BLOCK, items = images * blocks;
        long flopsPerItem = 2L * BLOCK * cin * cout;
        int grain = (int) Math.max(1, Math.min(items, (1L << 16) / Math.max(1, flopsPerItem)));
        pool.parallelFor(items, grain, (i0, i1) -> {
            for (int it = i0; it < i1; it++) {
                int n = it / blocks, p0 = (it % blocks) * BLOCK, len = Math.min(BLOCK, hw - p0);
                block(cin, cout, hw, hw, x, xo + n * cin * hw + p0, w, wo, bias, bo, y, yo + n * cout * hw + p0,
                        len, relu);
            }
        });
    }

    /**
     * y (cout x cols, row stride ldy) = w (cout x cin) · x (cin x cols, row stride ldx) + bias, then ReLU when asked,
     * on one thread: the same kernel for a GEMM with few rows or a short inner dimension (the banded stem conv's
     * low-rank Tucker core: 2 output channels from a 7x7 unfold).
     */
    static void product(int cin, int cout, int cols, float[] x, int xo, int ldx, float[] w, int wo, float[] bias,
                        int bo, float[] y, int yo, int ldy, boolean relu) {
        for (int p0 = 0; p0 < cols; p0 += BLOCK) {
            block(cin, cout, ldx, ldy, x, xo + p0, w, wo, bias, bo, y, yo + p0, Math.min(BLOCK, cols - p0), relu);
        }
    }

    /** One block of len ≤ BLOCK pixels starting at x[xs] (channel stride ldx) into y[ys] (channel stride ldy). */
    private static void block(int cin, int cout, int ldx, int ldy, float[] x, int xs, float[] w, int wo, float[] bias,
                              int bo, float[] y, int ys, int len, boolean relu) {
        for (int o = 0; o < cout; o++) {
            float b = bias == null ? 0f : bias[bo + o];
            int wr = wo + o * cin, yr = ys + o * ldy;
            int j = 0;
            if (len == BLOCK) {
                FloatVector a0 = FloatVector.broadcast(S, b), a1 = a0, a2 = a0, a3 = a0;
                for (int c = 0, xr = xs; c < cin; c++, xr += ldx) {
                    FloatVector wc = FloatVector.broadcast(S, w[wr + c]);
                    a0 = FloatVector.fromArray(S, x, xr).fma(wc, a0);
                    a1 = FloatVector.fromArray(S, x, xr + L).fma(wc, a1);
                    a2 = FloatVector.fromArray(S, x, xr + 2 * L).fma(wc, a2);
                    a3 = FloatVector.fromArray(S, x, xr + 3 * L).fma(wc, a3);
                }
                if (relu) {
                    a0 = a0.max(0f);
                    a1 = a1.max(0f);
                    a2 = a2.max(0f);
                    a3 = a3.max(0f);
                }
                a0.intoArray(y, yr);
                a1.intoArray(y, yr + L);
                a2.intoArray(y, yr + 2 * L);
                a3.intoArray(y, yr + 3 * L);
                continue;
            }
            for (; j + L <= len; j += L) { // the last, partial block: single vectors, then scalars
                FloatVector a = FloatVector.broadcast(S, b);
                for (int c = 0, xr = xs + j; c < cin; c++, xr += ldx) {
                    a = FloatVector.fromArray(S, x, xr).fma(FloatVector.broadcast(S, w[wr + c]), a);
                }
                (relu ? a.max(0f) : a).intoArray(y, yr + j);
            }
            for (; j < len; j++) {
                float a = b;
                for (int c = 0, xr = xs + j; c < cin; c++, xr += ldx) a = Math.fma(x[xr], w[wr + c], a);
                y[yr + j] = relu ? Math.max(a, 0f) : a;
            }
        }
    }
}
