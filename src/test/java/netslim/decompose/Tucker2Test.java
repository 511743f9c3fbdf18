package netslim.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** The SVD seam, Tucker-2 (HOSVD + HOOI) and the replaced conv chain against the original conv. */
class Tucker2Test {
    private final Tucker2 tucker = new Tucker2(new EjmlSvd());

    /** A kernel with exact Tucker ranks: G ×₀ U ×₁ V with random core and orthonormal U (T×r4), V (S×r3). */
    private static Tensor exactTucker(Rng rng, int t, int s, int k, int r3, int r4) {
        return exactTucker(rng, t, s, k, k, r3, r4);
    }

    private static Tensor exactTucker(Rng rng, int t, int s, int kh, int kw, int r3, int r4) {
        double[] g = new double[r4 * r3 * kh * kw];
        for (int i = 0; i < g.length; i++) g[i] = rng.nextGaussian();
        ConvKernel core = new ConvKernel(g, r4, r3, kh, kw);
        return core.expandMode0(DecomposeFixtures.orthonormal(rng, t, r4))
                .expandMode1(DecomposeFixtures.orthonormal(rng, s, r3)).toTensor();
    }

    private static double directRelError(Tensor w, double[] approx) {
        float[] x = w.toArray();
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - approx[i]) * (x[i] - approx[i]);
            den += (double) x[i] * x[i];
        }
        return Math.sqrt(num / den);
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"7, 19", "19, 7", "12, 12", "1, 5", "40, 300"})
    void svdReconstructsWithOrthonormalFactorsInDescendingOrder(int rows, int cols) {
        DMatrixRMaj a = DecomposeFixtures.gaussian(new Rng(rows * 31L + cols), rows, cols, 1);
        DMatrixRMaj before = a.copy();
        Svd.Result r = Svd.forDevice("cpu").decompose(a, true, true);
        int k = Math.min(rows, cols);
        assertEquals(k, r.singularValues().length);
        for (int i = 1; i < k; i++) assertTrue(r.singularValues()[i - 1] >= r.singularValues()[i], "descending");
        DMatrixRMaj us = r.u().copy();
        for (int i = 0; i < rows; i++) for (int j = 0; j < k; j++) us.set(i, j, us.get(i, j) * r.singularValues()[j]);
        DMatrixRMaj back = new DMatrixRMaj(rows, cols);
        CommonOps_DDRM.multTransB(us, r.v(), back);
        for (int i = 0; i < a.data.length; i++) assertEquals(a.data[i], back.data[i], 1e-12, "U S Vt at " + i);
        assertEquals(before.data.length, a.data.length);
        for (int i = 0; i < a.data.length; i++) assertEquals(before.data[i], a.data[i], 0.0, "input unchanged");
        assertOrthonormalColumns(r.u(), "U");
        assertOrthonormalColumns(r.v(), "V");
    }

    private static void assertOrthonormalColumns(DMatrixRMaj m, String what) {
        DMatrixRMaj gram = new DMatrixRMaj(m.numCols, m.numCols);
        CommonOps_DDRM.multTransA(m, m, gram);
        for (int i = 0; i < m.numCols; i++) {
            for (int j = 0; j < m.numCols; j++) assertEquals(i == j ? 1 : 0, gram.get(i, j), 1e-12, what + "ᵀ" + what);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cuda", "auto", "tpu"})
    void svdOnOtherDevicesIsAOneLineError(String device) {
        NetslimException e = assertThrows(NetslimException.class, () -> Svd.forDevice(device));
        assertTrue(e.getMessage().contains("cpu"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @ParameterizedTest(name = "T={0} S={1} k={2} ranks ({3}, {4})")
    @CsvSource({"16, 12, 3, 5, 4", "8, 24, 3, 6, 8", "10, 10, 5, 3, 3", "6, 4, 3, 4, 6", "32, 16, 1, 4, 4"})
    void exactTuckerRanksReconstructToRounding(int t, int s, int k, int r3, int r4) {
        Tensor w = exactTucker(new Rng(t * 100L + s * 10 + k), t, s, k, r3, r4);
        double[] sIn = tucker.spectra(w).inSingularValues(), sOut = tucker.spectra(w).outSingularValues();
        // The spectra show the planted ranks: beyond them only float32 rounding remains.
        assertTrue(sOut[r4 - 1] > 1e-3 * sOut[0] && (r4 == sOut.length || sOut[r4] < 1e-5 * sOut[0]), "mode-0 rank");
        assertTrue(sIn[r3 - 1] > 1e-3 * sIn[0] && (r3 == sIn.length || sIn[r3] < 1e-5 * sIn[0]), "mode-1 rank");
        Tucker2.Result r = tucker.decompose(w, r3, r4, 0);
        assertEquals(r3, r.r3());
        assertEquals(r4, r.r4());
        // The kernel is float32: what is left is its rounding (~1e-7 relative).
        double direct = directRelError(w, r.reconstruct());
        assertTrue(direct < 1e-6, "reconstruction error " + direct);
        assertTrue(r.relError() < 1e-6, "formula error " + r.relError());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void hooiNeverIncreasesTheErrorAndTheFormulaMatchesTheDirectError(long seed) {
        Rng rng = new Rng(seed);
        int t = 8 + rng.nextInt(24), s = 8 + rng.nextInt(24), k = 1 + 2 * rng.nextInt(3);
        Tensor w = rng.uniform(Shape.of(t, s, k, k));
        int r3 = 1 + rng.nextInt(s - 1), r4 = 1 + rng.nextInt(t - 1);
        r4 = Math.min(r4, r3 * k * k);
        r3 = Math.min(r3, r4 * k * k);
        Tucker2.Result hosvd = tucker.decompose(w, r3, r4, 0);
        Tucker2.Result hooi = tucker.decompose(w, r3, r4, 25);
        assertEquals(hosvd.relError(), hooi.hosvdRelError(), 1e-12, "same initialisation");
        assertTrue(hooi.relError() <= hosvd.relError() + 1e-12, "HOOI " + hooi.relError() + " > HOSVD "
                + hosvd.relError());
        for (Tucker2.Result r : List.of(hosvd, hooi)) {
            // √(‖W‖² − ‖G‖²)/‖W‖ holds for orthonormal factors; direct computation in double agrees to rounding.
            assertEquals(directRelError(w, r.reconstruct()), r.relError(), 1e-9, "formula vs direct");
            assertOrthonormalColumns(r.u(), "U");
            assertOrthonormalColumns(r.v(), "V");
        }
    }

    @Test
    void hooiStopsWhenTheErrorSettles() {
        Tensor w = new Rng(9).uniform(Shape.of(24, 20, 3, 3));
        Tucker2.Result r = tucker.decompose(w, 6, 7, 50);
        assertTrue(r.hooiSweeps() >= 1 && r.hooiSweeps() < 50, "sweeps " + r.hooiSweeps());
        assertEquals(0, tucker.decompose(w, 6, 7, 0).hooiSweeps());
    }

    @Test
    void fullRanksAreExact() {
        Tensor w = new Rng(10).uniform(Shape.of(6, 5, 3, 3));
        Tucker2.Result r = tucker.decompose(w, 5, 6, 3);
        assertTrue(directRelError(w, r.reconstruct()) < 1e-7);
    }

    @Test
    void infeasibleRanksAreRejected() {
        Tensor w = new Rng(1).uniform(Shape.of(6, 5, 3, 3));
        assertThrows(IllegalArgumentException.class, () -> tucker.decompose(w, 6, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> tucker.decompose(w, 0, 3, 0));
        assertFalse(Tucker2.feasible(Shape.of(40, 40, 1, 1), 2, 5), "1x1: R4 ≤ R3");
        assertTrue(Tucker2.feasible(Shape.of(40, 40, 3, 3), 2, 5));
    }

    /**
     * A one-conv graph (with the given geometry) whose kernel has exact Tucker ranks (2, 3), decomposed at those ranks:
     * the chain must compute the conv's output to float tolerance, with stride, padding, dilation, rectangular
     * kernels, with and without bias.
     */
    @ParameterizedTest(name = "k {2}x{3} stride {4} pad {5} dil {6} bias {7}")
    @CsvSource({"6, 8, 3, 3, 1, 1, 1, true", "6, 8, 3, 3, 2, 1, 1, false", "5, 7, 3, 3, 1, 2, 2, true",
            "4, 9, 5, 5, 2, 2, 1, false", "7, 5, 1, 3, 1, 0, 1, true", "8, 8, 3, 2, 3, 1, 2, false"})
    void replacedChainComputesTheConvOutput(int in, int out, int kh, int kw, int stride, int pad, int dil,
                                            boolean bias) {
        Rng rng = new Rng(in * 7L + out + kh + stride * 13L + pad + dil * 5L + (bias ? 1 : 0));
        ConvSpec spec = new ConvSpec(in, out, kh, kw, stride, stride, pad, pad, dil, dil, 1);
        GraphBuilder b = new GraphBuilder("input", Shape.of(in, 11, 13));
        b.conv("conv", b.input(), spec, bias);
        b.relu("relu", "conv");
        Graph g = b.build("relu");
        g.params().get("conv.weight").copyFrom(exactTucker(rng, out, in, kh, kw, 2, 3));
        if (bias) rng.fillUniform(g.params().get("conv.bias"), -1, 1);
        // At the kernel's own ranks the factorisation is exact: outputs agree up to float rounding of the chain.
        TuckerDecomposer.Options o = new TuckerDecomposer.Options(RankPolicy.parse("fixed:2,3"), 2, null, false);
        TuckerDecomposer.Result r = new TuckerDecomposer(o).decompose(g);
        Graph d = r.graph();
        assertEquals(List.of("conv.tucker_in", "conv.tucker_core", "conv", "relu"),
                d.nodes().stream().map(n -> n.name()).toList());
        Layer.Conv2d core = (Layer.Conv2d) d.node("conv.tucker_core").layer();
        assertEquals(new ConvSpec(core.spec().inChannels(), core.spec().outChannels(), kh, kw, stride, stride, pad,
                pad, dil, dil, 1), core.spec());
        assertEquals(bias, ((Layer.Conv2d) d.node("conv").layer()).bias());
        assertFalse(((Layer.Conv2d) d.node("conv.tucker_in").layer()).bias());
        assertFalse(core.bias());
        assertEquals(2, core.spec().inChannels());
        assertEquals(3, core.spec().outChannels());
        Tensor x = rng.uniform(Shape.of(2, in, 11, 13));
        Close.assertClose(run(d, x), run(g, x), 1e-5, 1e-4, "decomposed conv output");
    }

    static Tensor run(Graph g, Tensor x) {
        try (Executor ex = new Executor(g, new ReferenceKernels(), x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }
}
