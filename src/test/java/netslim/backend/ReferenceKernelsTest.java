package netslim.backend;

import static netslim.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.HostStorage;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ReferenceKernels semantics that neither finite differences nor the PyTorch fixtures pin down: the GEMM contract
 * (transposes, offsets, leading dimensions, alpha/beta, NaN in C), conv = im2col + GEMM, the dropout hash, tensor
 * offsets, and the argument checks.
 */
class ReferenceKernelsTest {
    private final ReferenceKernels ref = ReferenceKernels.create();

    @Test
    void identity() {
        assertEquals("reference", ref.name());
        assertTrue(ref.isHost());
        Tensor t = ref.allocate(Shape.of(2, 3));
        assertEquals(Shape.of(2, 3), t.shape());
        assertClose(t.toArray(), new float[6], 0, 0, "allocate zero-fills");
        Tensor dst = ref.allocate(Shape.of(6));
        ref.upload(Tensor.of(Shape.of(2, 3), new float[] {1, 2, 3, 4, 5, 6}), dst);
        Tensor back = Tensor.zeros(3, 2);
        ref.download(dst, back);
        assertClose(back.toArray(), new float[] {1, 2, 3, 4, 5, 6}, 0, 0, "upload then download");
    }

    // ---- GEMM -----------------------------------------------------------------------------------------------

    /** Stores the dense rows x cols matrix {@code m} (logical op(X)) as X with row stride ld at offset off. */
    private static Tensor store(double[][] m, boolean trans, int ld, int off, int storageOffset) {
        int rows = trans ? m[0].length : m.length;
        float[] buf = new float[storageOffset + off + rows * ld + 3];
        Arrays.fill(buf, Float.NaN); // never read: padding between rows and around the matrix
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                buf[storageOffset + off + (trans ? j * ld + i : i * ld + j)] = (float) m[i][j];
            }
        }
        return new Tensor(Shape.of(buf.length - storageOffset), new HostStorage(buf), storageOffset);
    }

    private static double[][] random(int rows, int cols, Rng rng) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) row[j] = (float) (rng.nextDouble() * 2 - 1);
        }
        return m;
    }

    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void gemmMatchesTheDefinitionWithTransposesOffsetsAndLeadingDims(boolean ta, boolean tb) {
        int m = 3, n = 5, k = 4;
        float alpha = 1.5f, beta = -0.5f;
        Rng rng = new Rng(31);
        double[][] opA = random(m, k, rng), opB = random(k, n, rng), c0 = random(m, n, rng);
        int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
        Tensor a = store(opA, ta, lda, 2, 3), b = store(opB, tb, ldb, 1, 0), c = store(c0, false, ldc, 4, 5);
        float[] before = c.toArray();
        ref.gemm(ta, tb, m, n, k, alpha, a, 2, lda, b, 1, ldb, beta, c, 4, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int p = 0; p < k; p++) dot += opA[i][p] * opB[p][j];
                float expected = (float) (alpha * dot + beta * c0[i][j]);
                assertEquals(expected, c.get(4 + i * ldc + j), 1e-6, "C[" + i + "][" + j + "]");
            }
        }
        for (int e = 0; e < c.size(); e++) {
            int rel = e - 4;
            boolean inC = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inC) assertTrue(Float.isNaN(c.get(e)) && Float.isNaN(before[e]), "gemm wrote outside C at " + e);
        }
    }

    @Test
    void gemmWithBetaZeroIgnoresNaNInCAndAlphaZeroIgnoresAB() {
        Tensor a = Tensor.of(Shape.of(2, 2), new float[] {1, 2, 3, 4}), b = Tensor.of(Shape.of(2, 2), new float[] {1, 0, 0, 1});
        Tensor c = Tensor.of(Shape.of(2, 2), new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN});
        ref.gemm(false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertClose(c.toArray(), new float[] {1, 2, 3, 4}, 0, 0, "beta = 0 overwrites NaN");
        a.set(0, Float.NaN);
        ref.gemm(false, false, 2, 2, 2, 0f, a, 0, 2, b, 0, 2, 2f, c, 0, 2);
        assertClose(c.toArray(), new float[] {2, 4, 6, 8}, 0, 0, "alpha = 0 scales C without reading A");
    }

    @Test
    void gemmRejectsAMatrixThatOverrunsItsTensor() {
        Tensor a = Tensor.zeros(2, 3), b = Tensor.zeros(3, 2), c = Tensor.zeros(2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ref.gemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("A"), e.getMessage());
    }

    /** The fast path's formulation: per image and group, y_g = w_g · im2col(x)_g (+ bias). */
    @Test
    void conv2dEqualsIm2colThenGemmPerGroup() {
        ConvSpec s = new ConvSpec(4, 6, 3, 2, 2, 1, 1, 1, 2, 1, 2);
        Rng rng = new Rng(41);
        Tensor x = rng.uniform(Shape.of(2, 4, 7, 6)), w = rng.uniform(Shape.of(6, 2, 3, 2)), bias = rng.uniform(Shape.of(6));
        int oh = s.outH(7), ow = s.outW(6), cols = oh * ow, coutG = 3, rowsG = 2 * 3 * 2;
        Tensor direct = Tensor.zeros(2, 6, oh, ow), viaGemm = Tensor.zeros(2, 6, oh, ow);
        ref.conv2d(x, w, bias, direct, s);
        Tensor col = Tensor.zeros(4 * 3 * 2, cols);
        for (int image = 0; image < 2; image++) {
            ref.im2col(x, image, s, col);
            for (int g = 0; g < 2; g++) {
                ref.gemm(false, false, coutG, cols, rowsG, 1f, w, g * coutG * rowsG, rowsG, col, g * rowsG * cols, cols,
                        0f, viaGemm, (image * 6 + g * coutG) * cols, cols);
            }
        }
        for (int i = 0; i < viaGemm.size(); i++) viaGemm.set(i, viaGemm.get(i) + bias.get(i / cols % 6));
        assertClose(viaGemm, direct, 1e-6, 1e-6, "im2col + GEMM vs direct convolution");
    }

    // ---- dropout --------------------------------------------------------------------------------------------

    @Test
    void dropoutKeepIsTheSplitMix64DrawOfSeedPlusIndex() {
        long gamma = 0x9E3779B97F4A7C15L;
        Rng pick = new Rng(51);
        for (int t = 0; t < 2000; t++) {
            long seed = pick.nextLong(), index = pick.nextInt(1 << 20);
            float p = pick.nextFloat();
            // Rng.nextLong adds the golden gamma, then applies the SplitMix64 finaliser; nextFloat takes 24 bits.
            float u = new Rng(seed + (index - 1) * gamma).nextFloat();
            assertEquals(u >= p, ReferenceKernels.dropoutKeep(seed, index, p), "seed " + seed + " index " + index);
        }
    }

    @Test
    void dropoutMaskIsInvertedAndKeepsAboutOneMinusP() {
        float p = 0.3f;
        Tensor x = Tensor.zeros(100_000), mask = Tensor.zeros(x.shape()), y = Tensor.zeros(x.shape());
        x.fill(2f);
        ref.dropout(x, p, 7L, mask, y);
        int kept = 0;
        for (int i = 0; i < x.size(); i++) {
            float m = mask.get(i);
            assertTrue(m == 0f || m == 1f / (1f - p), "mask value " + m);
            assertEquals(2f * m, y.get(i));
            if (m != 0) kept++;
        }
        // Binomial(1e5, 0.7): standard deviation 0.0014; ±0.01 is 7σ (the draw is deterministic anyway).
        assertEquals(0.7, kept / 1e5, 0.01, "kept fraction");
        Tensor other = Tensor.zeros(x.shape());
        ref.dropout(x, p, 8L, other, y);
        assertFalse(Arrays.equals(mask.toArray(), other.toArray()), "another seed draws another mask");
        ref.dropout(x, 0f, 7L, mask, y);
        assertClose(y, x, 0, 0, "p = 0 keeps everything unscaled");
        ref.dropout(x, 1f, 7L, mask, y);
        assertClose(y.toArray(), new float[x.size()], 0, 0, "p = 1 drops everything");
    }

    // ---- argument checks ------------------------------------------------------------------------------------

    @Test
    void outOfRangeLabelNamesIndexAndLabel() {
        Tensor logits = Tensor.zeros(3, 4), probs = Tensor.zeros(3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ref.softmaxCrossEntropy(logits, new int[] {0, 1, 4}, 0f, probs));
        assertTrue(e.getMessage().contains("label 4 at index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ref.softmaxCrossEntropyBackward(probs, new int[] {0, -1, 2}, 0f, 1f, Tensor.zeros(3, 4)));
    }

    @Test
    void shapeMismatchesAreRejected() {
        ConvSpec s = ConvSpec.of(3, 4, 3, 1, 1);
        Tensor x = Tensor.zeros(1, 3, 5, 5), w = Tensor.zeros(4, 3, 3, 3);
        assertThrows(IllegalArgumentException.class, () -> ref.conv2d(x, w, null, Tensor.zeros(1, 4, 4, 4), s));
        assertThrows(IllegalArgumentException.class,
                () -> ref.conv2d(Tensor.zeros(1, 2, 5, 5), w, null, Tensor.zeros(1, 4, 5, 5), s));
        assertThrows(IllegalArgumentException.class, () -> ref.im2col(x, 1, s, Tensor.zeros(27, 25)));
        assertThrows(IllegalArgumentException.class,
                () -> ref.copyChannels(x, 2, Tensor.zeros(1, 4, 5, 5), 0, 2, false));
        assertThrows(IllegalArgumentException.class,
                () -> ref.maxPool(x, Tensor.zeros(1, 3, 3, 3), PoolSpec.of(3, 2, 0, false)));
        assertThrows(IllegalArgumentException.class, () -> ref.add(x, Tensor.zeros(3), Tensor.zeros(x.shape())));
        Tensor c1 = Tensor.zeros(3);
        IllegalArgumentException bn = assertThrows(IllegalArgumentException.class, () -> ref.batchNormTrain(
                Tensor.zeros(1, 3, 1, 1), c1, c1, c1, c1, 0.1f, 1e-5f, Tensor.zeros(1, 3, 1, 1), c1, c1));
        assertTrue(bn.getMessage().contains("more than 1 value per channel"), bn.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ref.sgdStep(Tensor.zeros(3), Tensor.zeros(3), null, 0.1f, 0.9f, 0f, false));
    }

    @Test
    void maxPoolPropagatesNaNLikePyTorch() {
        Tensor x = Tensor.of(Shape.of(1, 1, 2, 2), new float[] {1, Float.NaN, 3, 2}), y = Tensor.zeros(1, 1, 1, 1);
        ref.maxPool(x, y, PoolSpec.of(2, 2, 0, false));
        assertTrue(Float.isNaN(y.get(0)));
    }

    // ---- tensor offsets -------------------------------------------------------------------------------------

    /** A copy of t at element offset 7 of a larger storage whose other elements are NaN guards. */
    private static Tensor atOffset(Tensor t) {
        float[] buf = new float[t.size() + 12];
        Arrays.fill(buf, Float.NaN);
        Tensor shifted = new Tensor(t.shape(), new HostStorage(buf), 7);
        shifted.copyFrom(t);
        return shifted;
    }

    /** Runs a sequence of ops on tensors produced by {@code place}; returns every tensor written. */
    private List<Tensor> runAll(UnaryOperator<Tensor> place) {
        Rng rng = new Rng(61);
        List<Tensor> out = new ArrayList<>();
        UnaryOperator<Tensor> keep = t -> {
            out.add(t);
            return t;
        };
        ConvSpec cs = ConvSpec.of(4, 4, 3, 2, 1).withGroups(2);
        Tensor x = place.apply(rng.uniform(Shape.of(2, 4, 5, 5))), w = place.apply(rng.uniform(Shape.of(4, 2, 3, 3)));
        Tensor b = place.apply(rng.uniform(Shape.of(4))), y = keep.apply(place.apply(Tensor.zeros(2, 4, 3, 3)));
        ref.conv2d(x, w, b, y, cs);
        Tensor dy = place.apply(rng.uniform(y.shape()));
        Tensor dx = keep.apply(place.apply(rng.uniform(x.shape()))), dw = keep.apply(place.apply(rng.uniform(w.shape())));
        ref.conv2dBackward(x, w, dy, dx, dw, keep.apply(place.apply(rng.uniform(b.shape()))), cs);
        Tensor col = keep.apply(place.apply(Tensor.zeros(4 * 9, 9)));
        ref.im2col(x, 1, cs, col);
        ref.col2im(col, cs, dx, 0);

        Tensor lx = place.apply(rng.uniform(Shape.of(3, 5))), lw = place.apply(rng.uniform(Shape.of(2, 5)));
        Tensor ly = keep.apply(place.apply(Tensor.zeros(3, 2)));
        ref.linear(lx, lw, place.apply(rng.uniform(Shape.of(2))), ly);
        ref.linearBackward(lx, lw, ly, keep.apply(place.apply(rng.uniform(lx.shape()))),
                keep.apply(place.apply(rng.uniform(lw.shape()))), keep.apply(place.apply(rng.uniform(Shape.of(2)))));

        Tensor gamma = place.apply(rng.uniform(Shape.of(4))), rm = keep.apply(place.apply(rng.uniform(Shape.of(4))));
        Tensor rv = keep.apply(place.apply(Tensor.of(Shape.of(4), new float[] {1, 2, 3, 4})));
        Tensor mean = keep.apply(place.apply(Tensor.zeros(4))), inv = keep.apply(place.apply(Tensor.zeros(4)));
        Tensor bnY = keep.apply(place.apply(Tensor.zeros(x.shape())));
        ref.batchNormTrain(x, gamma, b, rm, rv, 0.1f, 1e-5f, bnY, mean, inv);
        ref.batchNormBackward(x, bnY, gamma, mean, inv, dx, keep.apply(place.apply(Tensor.zeros(4))),
                keep.apply(place.apply(Tensor.zeros(4))));
        ref.batchNormEval(x, gamma, b, rm, rv, 1e-5f, keep.apply(place.apply(Tensor.zeros(x.shape()))));

        PoolSpec ps = PoolSpec.of(3, 2, 1, true);
        Tensor py = keep.apply(place.apply(Tensor.zeros(2, 4, 3, 3)));
        ref.maxPool(x, py, ps);
        ref.maxPoolBackward(x, py, dx, ps);
        ref.avgPool(x, py, ps);
        ref.avgPoolBackward(py, dx, ps);
        Tensor gy = keep.apply(place.apply(Tensor.zeros(2, 4, 1, 1)));
        ref.globalAvgPool(x, gy);
        ref.globalAvgPoolBackward(gy, dx);

        Tensor e = keep.apply(place.apply(Tensor.zeros(x.shape())));
        ref.relu(x, e);
        ref.reluBackward(e, x, dx); // x serves as dy
        ref.clip(x, -0.5f, 0.5f, e);
        ref.clipBackward(x, -0.5f, 0.5f, e, dx);
        ref.add(x, e, e);
        ref.axpy(0.5f, x, e);
        Tensor mask = keep.apply(place.apply(Tensor.zeros(x.shape())));
        ref.dropout(x, 0.4f, 99L, mask, e);
        ref.dropoutBackward(e, mask, dx);
        Tensor cat = keep.apply(place.apply(Tensor.zeros(2, 6, 5, 5)));
        ref.copyChannels(x, 1, cat, 2, 3, false);
        ref.copyChannels(x, 0, cat, 0, 2, true);
        ref.fill(keep.apply(place.apply(Tensor.zeros(3))), 2.5f);
        ref.copy(x, keep.apply(place.apply(Tensor.zeros(x.shape()))));

        Tensor logits = place.apply(rng.uniform(Shape.of(3, 4))), probs = keep.apply(place.apply(Tensor.zeros(3, 4)));
        float loss = ref.softmaxCrossEntropy(logits, new int[] {1, 3, 0}, 0.1f, probs);
        keep.apply(Tensor.of(Shape.of(1), new float[] {loss}));
        ref.softmaxCrossEntropyBackward(probs, new int[] {1, 3, 0}, 0.1f, 2f, keep.apply(place.apply(Tensor.zeros(3, 4))));
        Tensor vel = keep.apply(place.apply(rng.uniform(Shape.of(4))));
        ref.sgdStep(gamma, b, vel, 0.1f, 0.9f, 1e-3f, true);
        keep.apply(gamma);
        return out;
    }

    @Test
    void everyOpRespectsTensorOffsetsAndWritesNothingOutside() {
        List<Tensor> plain = runAll(Tensor::copy), shifted = runAll(ReferenceKernelsTest::atOffset);
        assertEquals(plain.size(), shifted.size());
        for (int i = 0; i < plain.size(); i++) {
            assertClose(shifted.get(i), plain.get(i), 0, 0, "output " + i + " at offset 7 vs offset 0");
            Tensor s = shifted.get(i);
            if (s.offset() == 0) continue; // the loss scalar
            float[] buf = s.data();
            for (int j = 0; j < buf.length; j++) {
                if (j < s.offset() || j >= s.offset() + s.size()) {
                    assertTrue(Float.isNaN(buf[j]), "output " + i + " guard element " + j + " was written");
                }
            }
        }
    }
}
