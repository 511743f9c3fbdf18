package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matrix-vector fast path for GEMMs with {@code n == 1} or {@code m == 1} (batch-1 Linear layers): packing
 * panels for one column is pure overhead, and the product is bound by reading the matrix once (2 FLOPs per 4
 * bytes). Both shapes become {@code y = alpha · M · x + beta · y} with M (rows x cols) stored either row-contiguous
 * (a dot product per output, {@link #dotRows}) or column-contiguous (a sum of scaled rows, {@link #axpyRows}).
 */
final class Gemv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Below this many multiply-adds a second thread costs more to wake than it saves. */
    private static final long MIN_MACS_PER_PART = 1L << 16;
    /** Outputs per block of the column-contiguous form: 4 vectors of accumulators. */
    private static final int AXPY_BLOCK = 4 * V;

    private Gemv() {
    }

    /** Matrix M (rows x cols): element (i, p) at off + i·rowStride + p·colStride. */
    private record Matrix(float[] data, int off, int rowStride, int colStride) {
    }

    /** Runs the call as a matrix-vector product when n or m is 1; returns false (doing nothing) otherwise. */
    static boolean tryRun(GemmCall g, boolean vector, int threads) {
        float[] x;
        Matrix mat;
        int rows;
        int incY;
        if (g.n() == 1) { // y = C(:, 0) = op(A) · op(B)(:, 0)
            rows = g.m();
            mat = new Matrix(g.a(), g.offA(), g.transA() ? 1 : g.lda(), g.transA() ? g.lda() : 1);
            x = gather(g.b(), g.offB(), g.transB() ? 1 : g.ldb(), g.k());
            incY = g.ldc();
        } else if (g.m() == 1) { // y = C(0, :) = op(B)ᵀ · op(A)(0, :)
            rows = g.n();
            mat = new Matrix(g.b(), g.offB(), g.transB() ? g.ldb() : 1, g.transB() ? 1 : g.ldb());
            x = gather(g.a(), g.offA(), g.transA() ? g.lda() : 1, g.k());
            incY = 1;
        } else {
            return false;
        }
        int cols = g.k();
        boolean rowContiguous = mat.colStride() == 1 || cols == 1;
        int units = rowContiguous ? rows : (rows + AXPY_BLOCK - 1) / AXPY_BLOCK;
        int parts = (int) Math.max(1, Math.min(Math.min(threads, units), (long) rows * cols / MIN_MACS_PER_PART));
        GemmWorkers.run(parts, p -> {
            if (rowContiguous) {
                int r0 = GemmWorkers.split(rows, parts, p);
                int r1 = GemmWorkers.split(rows, parts, p + 1);
                dotRows(mat, cols, x, g, incY, r0, r1, vector);
            } else {
                int r0 = GemmWorkers.split(units, parts, p) * AXPY_BLOCK;
                int r1 = Math.min(rows, GemmWorkers.split(units, parts, p + 1) * AXPY_BLOCK);
                axpyRows(mat, cols, x, g, incY, r0, r1, vector);
            }
        });
        return true;
    }

    /** The vector x as a contiguous array (copied only when strided). */
    private static float[] gather(float[] src, int off, int inc, int len) {
        float[] x = new float[len];
        for (int p = 0; p < len; p++) {
            x[p] = src[off + p * inc];
        }
        return x;
    }

    /** y[i] = alpha · dot(M row i, x) + beta · y[i] for rows [r0, r1), M rows contiguous. */
    private static void dotRows(Matrix mat, int cols, float[] x, GemmCall g, int incY, int r0, int r1,
                                boolean vector) {
        float[] m = mat.data();
        int i = r0;
        if (vector) {
            for (; i + 4 <= r1; i += 4) { // 4 rows share each load of x
                int o = mat.off() + i * mat.rowStride();
                int rs = mat.rowStride();
                FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
                FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
                int p = 0;
                for (; p <= cols - V; p += V) {
                    FloatVector xv = FloatVector.fromArray(S, x, p);
                    s0 = FloatVector.fromArray(S, m, o + p).fma(xv, s0);
                    s1 = FloatVector.fromArray(S, m, o + rs + p).fma(xv, s1);
                    s2 = FloatVector.fromArray(S, m, o + 2 * rs + p).fma(xv, s2);
                    s3 = FloatVector.fromArray(S, m, o + 3 * rs + p).fma(xv, s3);
                }
                store(g, incY, i, s0.reduceLanes(VectorOperators.ADD) + dotTail(m, o, x, p, cols));
                store(g, incY, i + 1, s1.reduceLanes(VectorOperators.ADD) + dotTail(m, o + rs, x, p, cols));
                store(g, incY, i + 2, s2.reduceLanes(VectorOperators.ADD) + dotTail(m, o + 2 * rs, x, p, cols));
                store(g, incY, i + 3, s3.reduceLanes(VectorOperators.ADD) + dotTail(m, o + 3 * rs, x, p, cols));
            }
        }
        for (; i < r1; i++) {
            store(g, incY, i, dotTail(m, mat.off() + i * mat.rowStride(), x, 0, cols));
        }
    }

    /** Scalar dot of M row at {@code o} with x over [p0, cols). */
    private static float dotTail(float[] m, int o, float[] x, int p0, int cols) {
        float s = 0f;
        for (int p = p0; p < cols; p++) {
            s += m[o + p] * x[p];
        }
        return s;
    }

    /** y[i] = alpha · Σ_p M(i, p) x[p] + beta · y[i] for rows [r0, r1), M columns contiguous. */
    private static void axpyRows(Matrix mat, int cols, float[] x, GemmCall g, int incY, int r0, int r1,
                                 boolean vector) {
        float[] m = mat.data();
        int cs = mat.colStride();
        float[] acc = new float[AXPY_BLOCK];
        for (int i0 = r0; i0 < r1; i0 += AXPY_BLOCK) {
            int len = Math.min(AXPY_BLOCK, r1 - i0);
            int o = mat.off() + i0;
            if (vector && len == AXPY_BLOCK) { // 4 accumulator vectors stay in registers over all of p
                FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
                FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
                for (int p = 0; p < cols; p++) {
                    FloatVector xv = FloatVector.broadcast(S, x[p]);
                    int q = o + p * cs;
                    s0 = FloatVector.fromArray(S, m, q).fma(xv, s0);
                    s1 = FloatVector.fromArray(S, m, q + V).fma(xv, s1);
                    s2 = FloatVector.fromArray(S, m, q + 2 * V).fma(xv, s2);
                    s3 = FloatVector.fromArray(S, m, q + 3 * V).fma(xv, s3);
                }
                s0.intoArray(acc, 0);
                s1.intoArray(acc, V);
                s2.intoArray(acc, 2 * V);
                s3.intoArray(acc, 3 * V);
            } else {
                java.util.Arrays.fill(acc, 0f);
                for (int p = 0; p < cols; p++) {
                    float xp = x[p];
                    int q = o + p * cs;
                    for (int j = 0; j < len; j++) {
                        acc[j] += m[q + j] * xp;
                    }
                }
            }
            for (int j = 0; j < len; j++) {
                store(g, incY, i0 + j, acc[j]);
            }
        }
    }

    /** y[i] = alpha · dot + beta · y[i], where beta == 0 overwrites (NaN in y does not survive). */
    private static void store(GemmCall g, int incY, int i, float dot) {
        int at = g.offC() + i * incY;
        float[] c = g.c();
        c[at] = g.beta() == 0f ? g.alpha() * dot : g.alpha() * dot + g.beta() * c[at];
    }
}
