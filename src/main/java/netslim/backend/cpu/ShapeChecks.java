package netslim.backend.cpu;

import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Shape checks of the CPU kernels. A mismatch is a caller bug (the Executor plans shapes), reported as an
 * IllegalArgumentException naming both shapes, instead of silently reading or writing the wrong elements.
 */
final class ShapeChecks {
    private ShapeChecks() {
    }

    static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** x (N, in, H, W), w (out, in/groups, kh, kw), y (N, out, outH, outW). */
    static void check(Tensor x, Tensor w, Tensor y, ConvSpec s) {
        Shape xs = x.shape(), ws = w.shape(), ys = y.shape();
        require(xs.rank() == 4 && xs.c() == s.inChannels(), "conv input " + xs + " does not match " + s);
        require(ws.equals(Shape.of(s.outChannels(), s.inChannels() / s.groups(), s.kh(), s.kw())),
                "conv weight " + ws + " does not match " + s);
        Shape expected = Shape.of(xs.n(), s.outChannels(), s.outH(xs.h()), s.outW(xs.w()));
        require(ys.equals(expected), "conv output " + ys + " should be " + expected + " for input " + xs);
    }

    /** y has the pooled shape of x. */
    static void checkPool(Tensor x, Tensor y, PoolSpec s) {
        Shape xs = x.shape();
        require(xs.rank() == 4, "pool input must be NCHW, got " + xs);
        Shape expected = Shape.of(xs.n(), xs.c(), s.outH(xs.h()), s.outW(xs.w()));
        require(y.shape().equals(expected), "pool output " + y.shape() + " should be " + expected + " for " + xs);
    }

    static void sameShape(Tensor a, Tensor b, String what) {
        require(a.shape().equals(b.shape()), what + ": shape " + a.shape() + " differs from " + b.shape());
    }

    static void sameSize(Tensor a, Tensor b, String what) {
        require(a.size() == b.size(), what + ": " + a.size() + " elements vs " + b.size());
    }
}
