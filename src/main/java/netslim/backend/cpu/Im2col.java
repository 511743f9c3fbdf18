package netslim.backend.cpu;

import java.util.Arrays;
import netslim.backend.ConvSpec;

/**
 * Multi-threaded im2col / col2im over a block of consecutive images and a range of input channels. The column
 * matrix has one row per (channel, i, j) — row {@code (c * kh + i) * kw + j} — and, for image b of the block,
 * the columns {@code [b*outH*outW, (b+1)*outH*outW)} in {@code oy*outW + ox} order; {@code ldCol} is its row
 * stride. With one image and all channels this is exactly {@link netslim.backend.Backend#im2col}.
 */
final class Im2col {
    /** Aim for at least this many floats written per parallel chunk, so tiny layers stay on one thread. */
    private static final int MIN_FLOATS_PER_CHUNK = 16_384;

    private final WorkerPool pool;

    Im2col(WorkerPool pool) {
        this.pool = pool;
    }

    /** Geometry of one call: input (C, H, W) planes, output (outH, outW). */
    record Geometry(ConvSpec spec, int channels, int h, int w, int outH, int outW) {
        int planeIn() {
            return h * w;
        }

        int planeOut() {
            return outH * outW;
        }

        int taps() {
            return spec.kh() * spec.kw();
        }
    }

    /**
     * Writes the columns of images [n0, n0 + images) and channels [c0, c0 + cg) of x (element offset xOff of
     * image 0, channel 0) into col starting at colOff.
     */
    void unfold(float[] x, int xOff, Geometry g, int n0, int images, int c0, int cg,
                float[] col, int colOff, int ldCol) {
        int rows = cg * g.taps();
        int grain = Math.max(1, MIN_FLOATS_PER_CHUNK / Math.max(1, images * g.planeOut()));
        Columns[] byKernelColumn = Columns.all(g);
        pool.parallelFor(rows, grain, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int c = c0 + r / g.taps();
                int i = r / g.spec().kw() % g.spec().kh();
                Columns cols = byKernelColumn[r % g.spec().kw()];
                for (int b = 0; b < images; b++) {
                    int plane = xOff + ((n0 + b) * g.channels() + c) * g.planeIn();
                    unfoldRow(x, plane, g, i, cols, col, colOff + r * ldCol + b * g.planeOut(), 0, g.outH());
                }
            }
        });
    }

    /**
     * On the calling thread: the columns of output rows [oy0, oy1) of image n (channels [c0, c0 + cg)) into col at
     * colOff, row stride ldCol — the band of the full column matrix that those output positions own;
     * byKernelColumn: {@link Columns#all} of g (computed once per call, not per band).
     */
    static void unfoldRows(float[] x, int xOff, Geometry g, Columns[] byKernelColumn, int n, int c0, int cg, int oy0,
                           int oy1, float[] col, int colOff, int ldCol) {
        if (PHASE_ROWS && g.spec().strideW() == 2) {
            unfoldRowsFromPhases(x, xOff, g, byKernelColumn, n, c0, cg, oy0, oy1, col, colOff, ldCol);
            return;
        }
        for (int r = 0; r < cg * g.taps(); r++) {
            int c = c0 + r / g.taps();
            int i = r / g.spec().kw() % g.spec().kh();
            int plane = xOff + (n * g.channels() + c) * g.planeIn();
            unfoldRow(x, plane, g, i, byKernelColumn[r % g.spec().kw()], col, colOff + r * ldCol, oy0, oy1);
        }
    }

    /**
     * -Dnetslim.im2col.phaseRows=false: {@link #unfoldRows} at stride 2 gathers every column-matrix row's even
     * elements on its own (one {@link EvenOdd#even} per kernel column), as before. Not final: tests and probes flip it.
     */
    static boolean PHASE_ROWS = !"false".equals(System.getProperty("netslim.im2col.phaseRows"));

    /** Per thread: one input row split into its even and odd columns ({@link #unfoldRowsFromPhases}). */
    private static final ThreadLocal<float[]> PHASES = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * {@link #unfoldRows} at column stride 2: output column ox of kernel column j reads input column 2·ox + shift,
     * element ox + ⌊shift / 2⌋ of the row's (shift mod 2) phase. So each input row a (channel, kernel row, output
     * row) reads is split into its even and odd columns once, and the kw column-matrix rows it feeds are contiguous
     * copies out of those halves — where gathering each row's even elements on its own split the same input row kw
     * times (GoogLeNet's 7x7 / 2 stem: 7 times, a quarter of the conv's time at batch 1). Same floats.
     */
    private static void unfoldRowsFromPhases(float[] x, int xOff, Geometry g, Columns[] byKernelColumn, int n, int c0,
                                             int cg, int oy0, int oy1, float[] col, int colOff, int ldCol) {
        ConvSpec s = g.spec();
        int kh = s.kh(), kw = s.kw(), w = g.w(), outW = g.outW(), half = (w + 1) / 2, L = EvenOdd.L;
        int ps = BlockedGemm.roundUp(half, L) + L; // the odd half starts ps after the even one
        float[] ph = PHASES.get();
        if (ph.length < 2 * ps) PHASES.set(ph = new float[2 * ps]);
        for (int cc = 0; cc < cg; cc++) {
            int plane = xOff + (n * g.channels() + c0 + cc) * g.planeIn();
            for (int i = 0; i < kh; i++) {
                int rows = colOff + (cc * kh + i) * kw * ldCol; // column-matrix row (cc·kh + i)·kw + j
                for (int oy = oy0; oy < oy1; oy++) {
                    int at = rows + (oy - oy0) * outW, iy = ConvWindow.inputRow(s, oy, i);
                    if (iy < 0 || iy >= g.h()) {
                        for (int j = 0; j < kw; j++) Arrays.fill(col, at + j * ldCol, at + j * ldCol + outW, 0f);
                        continue;
                    }
                    splitRow(x, plane + iy * w, w, ph, ps);
                    for (int j = 0; j < kw; j++) {
                        Columns c = byKernelColumn[j];
                        int lo = c.lo(), hi = c.hi(), dst = at + j * ldCol;
                        if (lo > 0) Arrays.fill(col, dst, dst + lo, 0f);
                        if (hi < outW) Arrays.fill(col, dst + hi, dst + outW, 0f);
                        if (hi > lo) {
                            int from = Math.floorMod(c.shift(), 2) * ps + Math.floorDiv(c.shift(), 2);
                            System.arraycopy(ph, from + lo, col, dst + lo, hi - lo);
                        }
                    }
                }
            }
        }
    }

    /** ph[q] = x[src + 2q], ph[ps + q] = x[src + 2q + 1] for the w elements of the row at src (in vectors). */
    private static void splitRow(float[] x, int src, int w, float[] ph, int ps) {
        int q = 0;
        for (; 2 * (q + EvenOdd.L) <= w; q += EvenOdd.L) EvenOdd.split(x, src + 2 * q, ph, q, ph, ps + q);
        for (; 2 * q < w; q++) {
            ph[q] = x[src + 2 * q];
            if (2 * q + 1 < w) ph[ps + q] = x[src + 2 * q + 1];
        }
    }

    /** The adjoint of {@link #unfold}: adds the columns back into dx. Parallel over channels (disjoint planes). */
    void fold(float[] col, int colOff, int ldCol, Geometry g, int n0, int images, int c0, int cg,
              float[] dx, int dxOff) {
        int grain = Math.max(1, MIN_FLOATS_PER_CHUNK / Math.max(1, images * g.planeOut() * g.taps()));
        Columns[] byKernelColumn = Columns.all(g);
        pool.parallelFor(cg, grain, (cc0, cc1) -> {
            for (int cc = cc0; cc < cc1; cc++) {
                for (int t = 0; t < g.taps(); t++) {
                    int r = cc * g.taps() + t;
                    int i = t / g.spec().kw();
                    Columns cols = byKernelColumn[t % g.spec().kw()];
                    for (int b = 0; b < images; b++) {
                        int plane = dxOff + ((n0 + b) * g.channels() + c0 + cc) * g.planeIn();
                        foldRow(col, colOff + r * ldCol + b * g.planeOut(), g, i, cols, dx, plane);
                    }
                }
            }
        });
    }

    /**
     * For kernel column j: the input column shift and the range [lo, hi) of output columns that read inside the
     * image. Computed once per call and kernel column, not per image and row (the floor divisions showed in
     * profiles, and one record per row was most of a forward pass's garbage).
     */
    record Columns(int shift, int lo, int hi) {
        static Columns[] all(Geometry g) {
            Columns[] out = new Columns[g.spec().kw()];
            for (int j = 0; j < out.length; j++) out[j] = of(g, j);
            return out;
        }

        static Columns of(Geometry g, int j) {
            ConvSpec s = g.spec();
            int shift = ConvWindow.shift(s, j);
            int lo = ConvWindow.firstValid(shift, s.strideW(), g.outW());
            return new Columns(shift, lo, ConvWindow.endValid(shift, s.strideW(), g.w(), g.outW(), lo));
        }
    }

    /** Output rows [oy0, oy1) of one column-matrix row (channel plane, kernel row i, kernel column c) at dst. */
    private static void unfoldRow(float[] x, int plane, Geometry g, int i, Columns c, float[] col, int dst, int oy0,
                                  int oy1) {
        ConvSpec s = g.spec();
        int sw = s.strideW(), shift = c.shift(), lo = c.lo(), hi = c.hi();
        for (int oy = oy0; oy < oy1; oy++, dst += g.outW()) {
            int iy = ConvWindow.inputRow(s, oy, i);
            if (iy < 0 || iy >= g.h()) {
                Arrays.fill(col, dst, dst + g.outW(), 0f);
                continue;
            }
            if (lo > 0) Arrays.fill(col, dst, dst + lo, 0f);
            if (hi < g.outW()) Arrays.fill(col, dst + hi, dst + g.outW(), 0f);
            int src = plane + iy * g.w() + shift;
            if (sw == 1) {
                System.arraycopy(x, src + lo, col, dst + lo, hi - lo);
            } else if (sw == 2 && hi - lo >= EvenOdd.L && src + 2 * hi <= x.length) {
                // The even elements, L per step (the last step overlapping the one before); the last step reads
                // up to x[src + 2·hi − 1], one past the last element used, hence the bound on x.
                for (int ox = lo; ; ox += EvenOdd.L) {
                    if (ox + EvenOdd.L > hi) ox = hi - EvenOdd.L;
                    EvenOdd.even(x, src + 2 * ox, col, dst + ox);
                    if (ox + EvenOdd.L == hi) break;
                }
            } else {
                for (int ox = lo; ox < hi; ox++) col[dst + ox] = x[src + ox * sw];
            }
        }
    }

    private static void foldRow(float[] col, int src, Geometry g, int i, Columns c, float[] dx, int plane) {
        ConvSpec s = g.spec();
        int sw = s.strideW(), shift = c.shift(), lo = c.lo(), hi = c.hi();
        for (int oy = 0; oy < g.outH(); oy++, src += g.outW()) {
            int iy = ConvWindow.inputRow(s, oy, i);
            if (iy < 0 || iy >= g.h()) continue;
            int dst = plane + iy * g.w() + shift;
            if (sw == 1) {
                for (int ox = lo; ox < hi; ox++) dx[dst + ox] += col[src + ox];
            } else {
                for (int ox = lo; ox < hi; ox++) dx[dst + ox * sw] += col[src + ox];
            }
        }
    }
}
