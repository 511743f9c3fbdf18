package netslim.backend.cpu;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Cheap argument checks shared by the CPU kernels. A failure is a programming error in the caller (the executor
 * planned a wrong buffer), so it throws {@link IllegalArgumentException} naming the op and the tensors.
 */
final class ShapeChecks {
    private ShapeChecks() {
    }

    static void require(boolean ok, String op, String message) {
        if (!ok) fail(op, message);
    }

    /**
     * Throws the check failure for op. The kernels' checks run on every op call, so they test first and build their
     * message only here, when it fails ({@code if (!ok) fail(...)}: no garbage per call); {@link #require} builds its
     * message before the test (the reference kernels, off the hot path).
     */
    static void fail(String op, String message) {
        throw new IllegalArgumentException(op + ": " + message);
    }

    static void requireRank(Tensor t, int rank, String op, String name) {
        if (t.shape().rank() != rank) fail(op, name + " must have rank " + rank + ", got " + t.shape());
    }

    static void requireShape(Tensor t, Shape expected, String op, String name) {
        if (!t.shape().equals(expected)) fail(op, name + " must be " + expected + ", got " + t.shape());
    }

    static void requireShape(Tensor t, String op, String name, int... dims) {
        if (!hasDims(t.shape(), dims)) requireShape(t, Shape.of(dims), op, name);
    }

    /** Shape equality without {@link Shape#dims()}'s defensive copy (this runs on every op call). */
    private static boolean hasDims(Shape shape, int[] dims) {
        if (shape.rank() != dims.length) return false;
        for (int i = 0; i < dims.length; i++) if (shape.dim(i) != dims[i]) return false;
        return true;
    }

    static void requireSize(Tensor t, long size, String op, String name) {
        if (t.size() != size) {
            fail(op, name + " " + t.shape() + " must have " + size + " elements, has " + t.size());
        }
    }

    static void requireSameSize(Tensor a, Tensor b, String op, String nameA, String nameB) {
        if (a.size() != b.size()) {
            fail(op, nameA + " " + a.shape() + " and " + nameB + " " + b.shape() + " differ in element count");
        }
    }

    /** Checks {@code t} is (n, c, ...) and returns the product of its remaining dimensions (1 for rank 2). */
    static int spatialSize(Tensor t, String op, String name) {
        Shape s = t.shape();
        if (s.rank() < 2) fail(op, name + " must be (N, C, ...), got " + s);
        int size = 1;
        for (int i = 2; i < s.rank(); i++) size *= s.dim(i);
        return size;
    }
}
