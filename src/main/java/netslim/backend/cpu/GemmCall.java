package netslim.backend.cpu;

import java.util.Arrays;

/**
 * The arguments of one row-major {@code C = alpha * op(A) * op(B) + beta * C} call, with the checks and the
 * degenerate cases every {@link Gemm} shares: bounds are checked in Java before any native call (a bad leading
 * dimension must throw, never read outside an array), and {@code k == 0} or {@code alpha == 0} reduce to
 * {@code C = beta * C} without reading A or B (BLAS semantics).
 */
record GemmCall(boolean transA, boolean transB, int m, int n, int k, float alpha,
                float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                float[] c, int offC, int ldc) {

    /** Throws on negative sizes, leading dimensions smaller than a row, or a matrix reaching outside its array. */
    GemmCall check() {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        }
        checkMatrix("C", c, offC, ldc, m, n);
        if (m > 0 && n > 0 && k > 0) {
            checkMatrix("A", a, offA, lda, rowsA(), colsA());
            checkMatrix("B", b, offB, ldb, rowsB(), colsB());
        }
        return this;
    }

    /** Rows of A as stored (op(A) is m x k). */
    int rowsA() {
        return transA ? k : m;
    }

    int colsA() {
        return transA ? m : k;
    }

    /** Rows of B as stored (op(B) is k x n). */
    int rowsB() {
        return transB ? n : k;
    }

    int colsB() {
        return transB ? k : n;
    }

    /** Index of op(A)(i, p) in {@code a}. */
    int indexA(int i, int p) {
        return transA ? offA + p * lda + i : offA + i * lda + p;
    }

    /** Index of op(B)(p, j) in {@code b}. */
    int indexB(int p, int j) {
        return transB ? offB + j * ldb + p : offB + p * ldb + j;
    }

    /**
     * Completes the calls that need no product: empty C, and {@code k == 0} or {@code alpha == 0} (then
     * {@code C = beta * C}). Returns true when nothing is left to do.
     */
    boolean finishTrivial() {
        if (m == 0 || n == 0) {
            return true;
        }
        if (k == 0 || alpha == 0f) {
            scaleC(0, m, 0, n);
            return true;
        }
        return false;
    }

    /** {@code C[i0, i1) x [j0, j1) *= beta}. */
    void scaleC(int i0, int i1, int j0, int j1) {
        for (int i = i0; i < i1; i++) {
            scale(c, offC + i * ldc + j0, j1 - j0, beta);
        }
    }

    /** {@code x[off, off+len) *= beta}; beta == 0 stores zeros, so NaN or Inf already in C does not survive. */
    static void scale(float[] x, int off, int len, float beta) {
        if (beta == 0f) {
            Arrays.fill(x, off, off + len, 0f);
        } else if (beta != 1f) {
            for (int j = off; j < off + len; j++) {
                x[j] *= beta;
            }
        }
    }

    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (ld < cols) {
            throw new IllegalArgumentException("gemm: ld" + name + "=" + ld + " < " + cols + " columns");
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > x.length) {
            throw new IndexOutOfBoundsException("gemm: " + name + " (" + rows + "x" + cols + ", ld " + ld
                    + ") at offset " + off + " needs " + end + " elements, array has " + x.length);
        }
    }
}
