package netslim.backend.cuda;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Argument checks before a launch: a kernel given a wrong shape writes outside its buffer silently, so the CUDA
 * backend checks at least what the reference checks that guards memory. A failure is a caller bug:
 * {@link IllegalArgumentException} naming the op.
 */
final class CudaChecks {
    private CudaChecks() {
    }

    static void require(boolean ok, String op, String message) {
        if (!ok) throw new IllegalArgumentException(op + ": " + message);
    }

    static void sameSize(Tensor a, Tensor b, String op) {
        require(a.size() == b.size(), op, a.shape() + " and " + b.shape() + " differ in element count");
    }

    static void shape(Tensor t, Shape expected, String op, String name) {
        require(t.shape().equals(expected), op, name + " must be " + expected + ", got " + t.shape());
    }

    static void shape(Tensor t, String op, String name, int... dims) {
        shape(t, Shape.of(dims), op, name);
    }

    static void rank4(Tensor t, String op, String name) {
        require(t.shape().rank() == 4, op, name + " must be (N, C, H, W), got " + t.shape());
    }

    /** (N, C, rest...): the product of the dimensions after C (1 for rank 2). */
    static int spatial(Tensor t, String op) {
        Shape s = t.shape();
        require(s.rank() >= 2, op, "expected (N, C, ...), got " + s);
        int hw = 1;
        for (int i = 2; i < s.rank(); i++) hw *= s.dim(i);
        return hw;
    }
}
