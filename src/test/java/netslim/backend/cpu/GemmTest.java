package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import netslim.NetslimException;
import netslim.tensor.Rng;
import netslim.testing.Close;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every {@link Gemm} (OpenBLAS, the Vector-API Java kernel at both tile heights, and its scalar path) against a double-accumulating
 * triple loop: all transpose combinations, offsets and leading dimensions larger than needed, alpha/beta cases
 * (beta = 0 over NaN, alpha = 0 over NaN inputs), degenerate and odd sizes, and blocking edges (k > KC, m > MC,
 * n > NC on one thread, row- and column-split parts).
 */
class GemmTest {

    /** The implementations under test, by label. */
    static Gemm impl(String label) {
        return switch (label) {
            case "openblas" -> new OpenBlasGemm(2); // slabs of C on two threads, 1-thread OpenBLAS each
            case "openblas-1thread" -> new OpenBlasGemm(1);
            case "java" -> new VectorGemm(2, true);
            case "java-1thread" -> new VectorGemm(1, true);
            case "java-scalar" -> new VectorGemm(2, false);
            // The tile height this machine's kernel does not use (6 rows on AVX-512, 8 on AVX2), so both bodies of
            // VectorMicroKernel are checked on every machine.
            case "java-other-tile" -> new VectorGemm(2, new VectorMicroKernel(VectorMicroKernel.MR == 8 ? 6 : 8));
            default -> throw new IllegalArgumentException(label);
        };
    }

    static final List<String> IMPLS = List.of("openblas", "java", "java-scalar", "java-other-tile");

    /** (m, n, k) shapes: degenerate, odd, kernel-tile edges, blocking edges, small GoogLeNet analogues. */
    static final int[][] SHAPES = {
        {1, 1, 1}, {1, 7, 5}, {7, 1, 5}, {5, 7, 1}, {1, 1, 300}, {2, 3, 4}, {6, 16, 8}, {4, 8, 3}, {7, 17, 9},
        {13, 29, 31}, {12, 32, 257}, {37, 3, 259}, {3, 37, 40}, {100, 33, 17}, {97, 50, 260}, {200, 10, 30},
        {64, 147, 200}, {48, 144, 196}, {96, 130, 49}, {40, 64, 1}, {1000 / 8, 1, 1024 / 8}, {33, 1, 70},
        // a Linear layer at batch 2-8 (Gemv's small-m path when B is transposed): blocks of 4 rows of B with a
        // remainder, k with and without a scalar tail, the classifier's shape scaled down; 9 rows: the GEMM again
        {8, 125, 128}, {2, 9, 33}, {5, 41, 70}, {8, 4, 16}, {9, 13, 40},
    };

    static final float[][] ALPHA_BETA = {{1f, 0f}, {1f, 1f}, {-0.5f, 2f}, {2.5f, 0f}};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String impl : IMPLS) {
            for (int[] s : SHAPES) {
                for (int t = 0; t < 4; t++) {
                    float[] ab = ALPHA_BETA[(s[0] * 31 + s[1] * 7 + s[2] + t) % ALPHA_BETA.length];
                    out.add(Arguments.of(impl, s[0], s[1], s[2], (t & 2) != 0, (t & 1) != 0, ab[0], ab[1]));
                }
            }
        }
        return out.stream();
    }

    /** A seeded problem with random offsets and padded leading dimensions; C starts as NaN when beta == 0. */
    static final class Problem {
        final boolean transA, transB;
        final int m, n, k, offA, lda, offB, ldb, offC, ldc;
        final float alpha, beta;
        final float[] a, b, c;

        Problem(long seed, boolean transA, boolean transB, int m, int n, int k, float alpha, float beta) {
            Rng rng = new Rng(seed);
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            int rowsA = transA ? k : m, colsA = transA ? m : k;
            int rowsB = transB ? n : k, colsB = transB ? k : n;
            offA = rng.nextInt(5);
            lda = colsA + rng.nextInt(4);
            offB = rng.nextInt(5);
            ldb = colsB + rng.nextInt(4);
            offC = rng.nextInt(5);
            ldc = n + rng.nextInt(4);
            a = filled(rng, offA + rowsA * lda + 3);
            b = filled(rng, offB + rowsB * ldb + 3);
            c = filled(rng, offC + m * ldc + 3);
            if (beta == 0f) { // beta = 0 must overwrite whatever C holds
                for (int i = 0; i < m; i++) {
                    Arrays.fill(c, offC + i * ldc, offC + i * ldc + n, Float.NaN);
                }
            }
        }

        private static float[] filled(Rng rng, int len) {
            float[] x = new float[len];
            for (int i = 0; i < len; i++) {
                x[i] = 2f * rng.nextFloat() - 1f;
            }
            return x;
        }

        float[] run(Gemm gemm) {
            float[] out = c.clone();
            gemm.sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, out, offC, ldc);
            return out;
        }

        /** The plain triple loop, accumulating in double; untouched elements of C (gaps, padding) stay as they were. */
        float[] reference() {
            float[] out = c.clone();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k && alpha != 0f; p++) { // BLAS: alpha = 0 does not read A or B
                        float ap = transA ? a[offA + p * lda + i] : a[offA + i * lda + p];
                        float bp = transB ? b[offB + j * ldb + p] : b[offB + p * ldb + j];
                        s += (double) ap * bp;
                    }
                    int at = offC + i * ldc + j;
                    out[at] = (float) (alpha * s + (beta == 0f ? 0.0 : (double) beta * c[at]));
                }
            }
            return out;
        }

        /** fp32 summation error grows like sqrt(k) (inputs in [-1, 1]); rtol covers the beta·C term. */
        void assertMatches(float[] actual, String what) {
            double atol = 2e-6 * Math.sqrt(Math.max(k, 1)) * Math.max(1, Math.abs(alpha));
            Close.assertClose(actual, reference(), atol, 1e-5, what);
        }
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} tA={4} tB={5} alpha={6} beta={7}")
    @MethodSource("cases")
    void matchesTripleLoop(String impl, int m, int n, int k, boolean transA, boolean transB, float alpha,
                           float beta) {
        long seed = ((m * 1009L + n) * 1013L + k) * 4 + (transA ? 2 : 0) + (transB ? 1 : 0);
        Problem p = new Problem(seed, transA, transB, m, n, k, alpha, beta);
        p.assertMatches(p.run(impl(impl)), impl);
    }

    static Stream<String> impls() {
        return IMPLS.stream();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void kZeroScalesC(String impl) {
        Problem p = new Problem(7, false, true, 5, 9, 0, 1.5f, -2f);
        p.assertMatches(p.run(impl(impl)), impl + " k=0");
        Problem z = new Problem(8, true, false, 5, 9, 0, 1f, 0f); // NaN in C, beta = 0: all zeros
        float[] out = z.run(impl(impl));
        z.assertMatches(out, impl + " k=0 beta=0");
    }

    @ParameterizedTest
    @MethodSource("impls")
    void alphaZeroDoesNotReadInputs(String impl) {
        Problem p = new Problem(9, false, false, 20, 30, 40, 0f, 0.5f);
        Arrays.fill(p.a, Float.NaN);
        p.assertMatches(p.run(impl(impl)), impl + " alpha=0");
    }

    @ParameterizedTest
    @MethodSource("impls")
    void emptyOutputIsANoOp(String impl) {
        float[] c = {1f, 2f};
        impl(impl).sgemm(false, false, 0, 3, 4, 1f, new float[0], 0, 4, new float[12], 0, 3, 0f, c, 0, 3);
        impl(impl).sgemm(false, false, 3, 0, 4, 1f, new float[12], 0, 4, new float[0], 0, 0, 0f, c, 0, 0);
        assertEquals(List.of(1f, 2f), List.of(c[0], c[1]));
    }

    /** Blocking edges that need one thread or more than two parts to be reached. */
    @ParameterizedTest
    @ValueSource(strings = {"java-1thread", "java", "java-other-tile", "openblas-1thread", "openblas"})
    void largeBlocks(String impl) {
        Problem wide = new Problem(11, false, false, 7, 2100, 33, 1f, 1f); // n > NC on one thread
        wide.assertMatches(wide.run(impl(impl)), impl + " wide");
        Problem deep = new Problem(12, true, true, 130, 70, 600, -1f, 0f); // k > 2·KC, m > MC
        deep.assertMatches(deep.run(impl(impl)), impl + " deep");
        Problem packed = new Problem(13, false, true, 97, 300, 300, 0.5f, 1f); // A packed (n > 192 on one thread)
        packed.assertMatches(packed.run(impl(impl)), impl + " packed A");
    }

    /** Products big enough to be cut into chunks for two threads, by columns (wide C) and by rows (tall C). */
    @ParameterizedTest
    @MethodSource("impls")
    void splitAcrossThreads(String impl) {
        for (int t = 0; t < 4; t++) {
            Problem wide = new Problem(60 + t, (t & 2) != 0, (t & 1) != 0, 70, 190, 400, 1f, t % 2 == 0 ? 0f : 0.5f);
            wide.assertMatches(wide.run(impl(impl)), impl + " wide split t=" + t);
            Problem tall = new Problem(70 + t, (t & 2) != 0, (t & 1) != 0, 330, 21, 700, -2f, 1f);
            tall.assertMatches(tall.run(impl(impl)), impl + " tall split t=" + t);
            Problem flat = new Problem(80 + t, (t & 2) != 0, (t & 1) != 0, 20, 700, 400, 1f, t % 2 == 0 ? 0f : -1f);
            flat.assertMatches(flat.run(impl(impl)), impl + " column-slab split t=" + t);
        }
    }

    /** The GEMV path with a strided output column (n = 1, ldc > 1) and strided x, both transposes. */
    @ParameterizedTest
    @MethodSource("impls")
    void stridedMatrixVector(String impl) {
        for (int t = 0; t < 4; t++) {
            Problem p = new Problem(20 + t, (t & 2) != 0, (t & 1) != 0, 70, 1, 90, 1f, 0.5f);
            p.assertMatches(p.run(impl(impl)), impl + " gemv t=" + t);
            Problem q = new Problem(30 + t, (t & 2) != 0, (t & 1) != 0, 1, 70, 90, 1f, 0f);
            q.assertMatches(q.run(impl(impl)), impl + " row-vector t=" + t);
        }
    }

    /** A NaN left in OpenBLAS's staging buffer by one call must not leak into a later beta = 0 call. */
    @Test
    void openBlasStagingDoesNotLeakNaN() {
        Gemm gemm = impl("openblas");
        Problem nanC = new Problem(40, false, false, 20, 20, 20, 1f, 1f);
        Arrays.fill(nanC.c, Float.NaN);
        nanC.run(gemm);
        Problem p = new Problem(41, false, false, 20, 20, 20, 1f, 0f);
        p.assertMatches(p.run(gemm), "openblas after NaN");
    }

    @ParameterizedTest
    @MethodSource("impls")
    void concurrentCallersGetTheirOwnResults(String impl) throws Exception {
        Gemm gemm = impl(impl);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = 50 + t;
                futures.add(pool.submit(() -> {
                    Problem p = new Problem(seed, seed % 2 == 0, seed % 3 == 0, 30 + seed, 40, 50 + seed, 1f, 0f);
                    p.assertMatches(p.run(gemm), impl + " concurrent " + seed);
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void badArgumentsThrowBeforeAnyWork(String impl) {
        Gemm gemm = impl(impl);
        float[] a = new float[12], b = new float[12], c = new float[9];
        // lda smaller than a row of A
        assertThrows(IllegalArgumentException.class,
                () -> gemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3));
        // B (4x3) at offset 1 reaches past its array
        assertThrows(IndexOutOfBoundsException.class,
                () -> gemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 4, b, 1, 3, 0f, c, 0, 3));
        assertThrows(IllegalArgumentException.class,
                () -> gemm.sgemm(false, false, -1, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
    }

    @Test
    void selectByName() {
        assertInstanceOf(VectorGemm.class, Gemm.select("java", 2));
        assertEquals("java", Gemm.select("java", 1).name());
        assertInstanceOf(OpenBlasGemm.class, Gemm.select("openblas", 2));
        assertInstanceOf(OpenBlasGemm.class, Gemm.select("auto", 1), "OpenBLAS loads on this platform");
        assertInstanceOf(OpenBlasGemm.class, Gemm.select("auto", 2), "several threads: OpenBLAS in slabs (see Gemm.select)");
        NetslimException e = assertThrows(NetslimException.class, () -> Gemm.select("mkl", 2));
        assertTrue(e.getMessage().contains("mkl") && !e.getMessage().contains("\n"), e.getMessage());
        assertThrows(NetslimException.class, () -> Gemm.select("java", 0));
    }
}
