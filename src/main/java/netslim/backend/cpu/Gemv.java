package netslim.backend.cpu;

/**
 * The matrix-vector fast path for GEMMs with {@code n == 1} or {@code m == 1} (batch-1 Linear layers): packing
 * panels for one column is pure overhead, and the product is bound by reading the matrix once (2 FLOPs per 4
 * bytes). Both shapes become {@code y = alpha · M · x + beta · y} with M (rows x cols) stored either row-contiguous
 * (a dot product per output, {@link #dotRows}) or column-contiguous (a sum of scaled rows, {@link #axpyRows}).
 * The Vector-API loops live in {@link GemvVectorKernels}, so the scalar path never loads the incubator module.
 */
final class Gemv {
    /** Below this many multiply-adds a second thread costs more to wake than it saves. */
    private static final long MIN_MACS_PER_PART = 1L << 16;
    /** Outputs per unit of work split between threads in the column-contiguous form. */
    private static final int AXPY_BLOCK = 32;

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
        } else if (SMALL_M && g.m() <= MAX_SMALL_M && !g.transA() && g.transB() && g.n() >= 4) {
            smallM(g, vector, threads);
            return true;
        } else {
            return false;
        }
        int cols = g.k();
        boolean rowContiguous = mat.colStride() == 1 || cols == 1;
        int units = rowContiguous ? rows : (rows + AXPY_BLOCK - 1) / AXPY_BLOCK;
        int parts = (int) Math.max(1, Math.min(Math.min(threads, units), (long) rows * cols / MIN_MACS_PER_PART));
        WorkerPool.runParts(parts, p -> {
            if (rowContiguous) {
                int r0 = WorkerPool.split(rows, parts, p);
                int r1 = WorkerPool.split(rows, parts, p + 1);
                dotRows(mat, cols, x, g, incY, r0, r1, vector);
            } else {
                int r0 = WorkerPool.split(units, parts, p) * AXPY_BLOCK;
                int r1 = Math.min(rows, WorkerPool.split(units, parts, p + 1) * AXPY_BLOCK);
                axpyRows(mat, cols, x, g, incY, r0, r1, vector);
            }
        });
        return true;
    }

    /** -Dnetslim.gemm.smallM=false: GEMMs with 2-{@value #MAX_SMALL_M} rows of A go to the GEMM (not final: probes). */
    static boolean SMALL_M = !"false".equals(System.getProperty("netslim.gemm.smallM"));
    /** Rows of A up to which {@link #smallM} runs the call. */
    static final int MAX_SMALL_M = 8;

    /**
     * C = alpha · A · Bᵀ + beta · C for a few rows of A (m ≤ {@value #MAX_SMALL_M}: a Linear layer at batch 2-8), A
     * and B rows contiguous: C(r, j) is the dot product of A's row r with B's row j. B (the layer's weights, out x
     * in) is read from memory once: each block of 4 of its rows stays in L1 while every row of A passes over it (one
     * load of A serves 4 rows of B). A GEMM packs B on every call and runs tiles that are m = 8 rows tall at most:
     * GoogLeNet's classifier at batch 8 (1000 x 1024) took 0.80 ms through OpenBLAS, about 10 GMAC/s.
     */
    private static void smallM(GemmCall g, boolean vector, int threads) {
        int rows = g.n(), cols = g.k(), blocks = rows / 4;
        int parts = (int) Math.max(1, Math.min(Math.min(threads, Math.max(1, blocks)),
                (long) g.m() * rows * cols / MIN_MACS_PER_PART));
        float[] a = g.a(), b = g.b();
        WorkerPool.runParts(parts, part -> {
            int b0 = WorkerPool.split(blocks, parts, part), b1 = WorkerPool.split(blocks, parts, part + 1);
            float[] sums = new float[4];
            for (int blk = b0; blk < b1; blk++) {
                int j = blk * 4, o = g.offB() + j * g.ldb();
                for (int r = 0; r < g.m(); r++) {
                    int xo = g.offA() + r * g.lda();
                    int p = vector ? GemvVectorKernels.dot4(b, o, g.ldb(), a, xo, cols, sums) : 0;
                    for (int q = 0; q < 4; q++) {
                        float s = (vector ? sums[q] : 0f) + dotTail(b, o + q * g.ldb(), a, xo, p, cols);
                        store(g, g.ldc(), r, j + q, s);
                    }
                }
            }
            if (part == parts - 1) { // the rows past the last whole block of 4
                for (int j = blocks * 4; j < rows; j++) {
                    for (int r = 0; r < g.m(); r++) {
                        int xo = g.offA() + r * g.lda();
                        store(g, g.ldc(), r, j, dotTail(b, g.offB() + j * g.ldb(), a, xo, 0, cols));
                    }
                }
            }
        });
    }

    /** Scalar dot of the row at {@code o} (element p at o + p) with x (element p at xo + p) over [p0, cols). */
    private static float dotTail(float[] m, int o, float[] x, int xo, int p0, int cols) {
        float s = 0f;
        for (int p = p0; p < cols; p++) {
            s += m[o + p] * x[xo + p];
        }
        return s;
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
            int rs = mat.rowStride();
            float[] sums = new float[4];
            for (; i + 4 <= r1; i += 4) { // 4 rows share each load of x
                int o = mat.off() + i * rs;
                int p = GemvVectorKernels.dot4(m, o, rs, x, 0, cols, sums);
                for (int r = 0; r < 4; r++) {
                    store(g, incY, i + r, sums[r] + dotTail(m, o + r * rs, x, 0, p, cols));
                }
            }
        }
        for (; i < r1; i++) {
            store(g, incY, i, dotTail(m, mat.off() + i * mat.rowStride(), x, 0, 0, cols));
        }
    }

    /**
     * y[i] = alpha · Σ_p M(i, p) x[p] + beta · y[i] for rows [r0, r1), M columns contiguous: streams 4 stored
     * columns of M at a time (sequential reads) into an accumulator slice that stays in L1, 5 loads and 1 store
     * per 4 FMAs. (Walking each output block down all of p instead reads M with a large stride and ran at half
     * the speed.)
     */
    private static void axpyRows(Matrix mat, int cols, float[] x, GemmCall g, int incY, int r0, int r1,
                                 boolean vector) {
        float[] m = mat.data();
        int cs = mat.colStride();
        int len = r1 - r0;
        float[] acc = new float[len];
        int base = mat.off() + r0;
        int p = 0;
        if (vector) {
            for (; p + 4 <= cols; p += 4) {
                int q0 = base + p * cs;
                int i = GemvVectorKernels.axpy4(m, q0, cs, x, p, acc, len);
                for (; i < len; i++) {
                    acc[i] += m[q0 + i] * x[p] + m[q0 + cs + i] * x[p + 1] + m[q0 + 2 * cs + i] * x[p + 2]
                            + m[q0 + 3 * cs + i] * x[p + 3];
                }
            }
        }
        for (; p < cols; p++) {
            float xp = x[p];
            int q = base + p * cs;
            for (int i = 0; i < len; i++) {
                acc[i] += m[q + i] * xp;
            }
        }
        for (int i = 0; i < len; i++) {
            store(g, incY, r0 + i, acc[i]);
        }
    }

    /** y[i] = alpha · dot + beta · y[i], where beta == 0 overwrites (NaN in y does not survive). */
    private static void store(GemmCall g, int incY, int i, float dot) {
        store(g, incY, i, 0, dot);
    }

    /** C's element at i·stride + j: alpha · dot + beta · it, where beta == 0 overwrites. */
    private static void store(GemmCall g, int stride, int i, int j, float dot) {
        int at = g.offC() + i * stride + j;
        float[] c = g.c();
        c[at] = g.beta() == 0f ? g.alpha() * dot : g.alpha() * dot + g.beta() * c[at];
    }
}
