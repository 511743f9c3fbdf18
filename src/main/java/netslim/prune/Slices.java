package netslim.prune;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** Channel slices of parameter tensors (C order): zeroing a row, testing it, and selecting rows or columns. */
final class Slices {
    private Slices() {
    }

    /** Elements per index of axis 0: the size of one filter of a (out, in, kh, kw) weight. */
    private static int rowSize(Tensor t) {
        return t.shape().dim(0) == 0 ? 0 : t.size() / t.shape().dim(0);
    }

    /** Sets t[row, ...] to zero. */
    static void zeroRow(Tensor t, int row) {
        int n = rowSize(t), o = t.offset() + row * n;
        java.util.Arrays.fill(t.data(), o, o + n, 0f);
    }

    /** Whether every element of t[row, ...] is ±0. */
    static boolean rowIsZero(Tensor t, int row) {
        int n = rowSize(t), o = t.offset() + row * n;
        float[] d = t.data();
        for (int i = 0; i < n; i++) if (d[o + i] != 0f) return false;
        return true;
    }

    /** Σ |t[row, ...]| in double. */
    static double rowAbsSum(Tensor t, int row) {
        int n = rowSize(t), o = t.offset() + row * n;
        float[] d = t.data();
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.abs(d[o + i]);
        return s;
    }

    /** Σ (a·b)² over row {@code row} of two tensors of the same shape, in double. */
    static double rowProductSquares(Tensor a, Tensor b, int row) {
        int n = rowSize(a), oa = a.offset() + row * n, ob = b.offset() + row * n;
        float[] da = a.data(), db = b.data();
        double s = 0;
        for (int i = 0; i < n; i++) {
            double p = (double) da[oa + i] * db[ob + i];
            s += p * p;
        }
        return s;
    }

    /** A new tensor holding only the indices {@code keep} (in that order) of axis {@code axis}. */
    static Tensor select(Tensor t, int axis, int[] keep) {
        Shape s = t.shape();
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= s.dim(i);
        for (int i = axis + 1; i < s.rank(); i++) inner *= s.dim(i);
        int dim = s.dim(axis);
        Tensor out = Tensor.zeros(s.with(axis, keep.length));
        float[] src = t.data(), dst = out.data();
        for (int o = 0; o < outer; o++) {
            for (int k = 0; k < keep.length; k++) {
                System.arraycopy(src, t.offset() + (o * dim + keep[k]) * inner, dst, (o * keep.length + k) * inner,
                        inner);
            }
        }
        return out;
    }

    /** The columns of channels {@code channels}, {@code unit} columns each: c·unit … c·unit + unit − 1. */
    static int[] columns(int[] channels, int unit) {
        int[] cols = new int[channels.length * unit];
        for (int i = 0; i < channels.length; i++) {
            for (int u = 0; u < unit; u++) cols[i * unit + u] = channels[i] * unit + u;
        }
        return cols;
    }
}
