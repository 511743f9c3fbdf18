package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import netslim.testing.Close;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each body of the Vector-API micro-kernel (6 and 8 rows, packed A and A read in place, the one-vector narrow
 * kernels) called directly against a double-accumulating reference of c = alpha·(A·B) + beta·c on seeded inputs:
 * every alpha/beta case the GEMM passes (beta 0 over NaN must overwrite; beta ≠ 0 reads c; alpha scales the
 * sums), odd strides of A and of C, and a guard of sentinels around the tile that must stay untouched.
 */
class VectorMicroKernelTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        float[][] alphaBeta = {{1f, 0f}, {1f, 1f}, {-0.5f, 2f}, {2.5f, 0f}, {1f, -1f}};
        for (int rows : new int[] {6, 8}) {
            for (String kind : new String[] {"packed", "strided", "narrow"}) {
                for (int kc : new int[] {1, 5, 37}) {
                    for (float[] ab : alphaBeta) out.add(Arguments.of(rows, kind, kc, ab[0], ab[1]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "rows={0} {1} kc={2} alpha={3} beta={4}")
    @MethodSource("cases")
    void matchesReference(int rows, String kind, int kc, float alpha, float beta) {
        VectorMicroKernel tile = new VectorMicroKernel(rows);
        MicroKernel k = kind.equals("narrow") ? tile.narrow() : tile;
        assertEquals(rows, k.mr());
        int nr = k.nr();
        Random r = new Random(31L * rows + kc + kind.hashCode() + Float.floatToIntBits(alpha + 3 * beta));
        // A: packed (k-major, rows wide) or read in place with a row stride rs and a step stride ps
        boolean packed = kind.equals("packed");
        int rs = packed ? 1 : kc + 3, ps = packed ? rows : 1, aOff = 5;
        float[] a = random(r, aOff + (rows - 1) * rs + (kc - 1) * ps + 1 + 7);
        int bOff = 3;
        float[] pb = random(r, bOff + kc * nr + 4);
        int ldc = nr + 9, cOff = 11, size = cOff + rows * ldc + 13;
        float[] c = random(r, size);
        float[] before = c.clone();
        boolean[] inTile = new boolean[size];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < nr; j++) {
                int at = cOff + i * ldc + j;
                inTile[at] = true;
                if (beta == 0f) c[at] = Float.NaN; // must be overwritten, not read
            }
        }
        float[] expected = new float[rows * nr], actual = new float[rows * nr];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < nr; j++) {
                double sum = 0;
                for (int p = 0; p < kc; p++) sum += (double) a[aOff + i * rs + p * ps] * pb[bOff + p * nr + j];
                int at = cOff + i * ldc + j;
                expected[i * nr + j] = (float) (alpha * sum + (beta == 0f ? 0.0 : (double) beta * before[at]));
            }
        }
        k.run(kc, a, aOff, rs, ps, alpha, pb, bOff, beta, c, cOff, ldc);
        for (int i = 0; i < rows; i++) System.arraycopy(c, cOff + i * ldc, actual, i * nr, nr);
        double atol = 1e-5 * Math.sqrt(kc) * Math.max(1, Math.abs(alpha));
        Close.assertClose(actual, expected, atol, 1e-5, rows + "-row " + kind + " kc=" + kc + " alpha=" + alpha
                + " beta=" + beta);
        for (int i = 0; i < size; i++) {
            if (!inTile[i] && Float.floatToRawIntBits(c[i]) != Float.floatToRawIntBits(before[i])) {
                throw new AssertionError("c[" + i + "] outside the tile changed: " + before[i] + " -> " + c[i]);
            }
        }
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (2 * r.nextDouble() - 1);
        return v;
    }

    @ParameterizedTest(name = "beta={0}")
    @MethodSource("betas")
    void packedTileOnMapRowsInPlace(float beta) {
        // runPacked8 (DirectPointwise's entry): b's rows ldb apart, beta 0 over NaN or accumulate into c
        Random r = new Random(7);
        int kc = 19, ldb = 45, nr = VectorMicroKernel.NR, ldc = nr + 3;
        float[] a = random(r, kc * 8), b = random(r, kc * ldb + nr), c = random(r, 8 * ldc);
        float[] before = c.clone();
        if (beta == 0f) Arrays.fill(c, Float.NaN);
        float[] expected = new float[8 * nr], actual = new float[8 * nr];
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < nr; j++) {
                double sum = 0;
                for (int p = 0; p < kc; p++) sum += (double) a[p * 8 + i] * b[p * ldb + j];
                expected[i * nr + j] = (float) (sum + (beta == 0f ? 0.0 : (double) beta * before[i * ldc + j]));
            }
        }
        VectorMicroKernel.runPacked8(kc, a, 0, b, 0, ldb, beta, c, 0, ldc);
        for (int i = 0; i < 8; i++) System.arraycopy(c, i * ldc, actual, i * nr, nr);
        Close.assertClose(actual, expected, 1e-5 * Math.sqrt(kc), 1e-5, "runPacked8 beta=" + beta);
    }

    static Stream<Float> betas() {
        return Stream.of(0f, 1f, 0.5f);
    }
}
