package netslim.backend.cpu;

import netslim.backend.ConvSpec;

/**
 * Index arithmetic shared by the im2col / col2im / depthwise loops: for kernel tap (i, j), output (oy, ox) reads
 * input row {@code oy*strideH - padH + i*dilationH} and column {@code ox*strideW + shift(j)}. Precomputing the
 * range of ox whose column lies inside the image turns the inner loops into branch-free runs.
 */
final class ConvWindow {
    private ConvWindow() {
    }

    /** Input column of output column 0 for kernel column j (may be negative: padding). */
    static int shift(ConvSpec s, int j) {
        return j * s.dilationW() - s.padW();
    }

    /** Input row read by output row oy for kernel row i (outside [0, H) means padding). */
    static int inputRow(ConvSpec s, int oy, int i) {
        return oy * s.strideH() - s.padH() + i * s.dilationH();
    }

    /** First ox whose input column {@code ox*stride + shift} is ≥ 0, clamped to [0, outW]. */
    static int firstValid(int shift, int stride, int outW) {
        return Math.min(Math.max(Math.floorDiv(-shift + stride - 1, stride), 0), outW);
    }

    /** One past the last ox whose input column is < w, clamped to [lo, outW]. */
    static int endValid(int shift, int stride, int w, int outW, int lo) {
        return Math.min(Math.max(Math.floorDiv(w - 1 - shift, stride) + 1, lo), outW);
    }
}
