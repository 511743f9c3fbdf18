package netslim.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.tensor.Rng;
import netslim.testing.TestNpy;

/**
 * EVBMF against reference values computed independently in NumPy/SciPy by src/test/python/make_evbmf_golden.py
 * (another minimiser and parameterisation), and on planted-rank and pure-noise matrices.
 */
class EvbmfTest {

    record GoldenCase(String name, DMatrixRMaj matrix, double[] singularValues, double sigma2, double threshold,
                      int rank, double lower, double upper) {
        @Override
        public String toString() {
            return name + " " + matrix.numRows + "x" + matrix.numCols;
        }
    }

    static List<GoldenCase> goldenCases() throws IOException {
        JsonObject root;
        try (InputStream in = EvbmfTest.class.getResourceAsStream("/evbmf/golden.json")) {
            root = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
        List<GoldenCase> cases = new ArrayList<>();
        for (JsonElement e : root.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            int rows = c.get("rows").getAsInt(), cols = c.get("cols").getAsInt();
            double[] values = TestNpy.doubles("/evbmf/" + c.get("file").getAsString());
            double[] sv = new double[c.getAsJsonArray("singular_values").size()];
            for (int i = 0; i < sv.length; i++) sv[i] = c.getAsJsonArray("singular_values").get(i).getAsDouble();
            cases.add(new GoldenCase(c.get("name").getAsString(), DMatrixRMaj.wrap(rows, cols, values), sv,
                    c.get("sigma2").getAsDouble(), c.get("threshold").getAsDouble(), c.get("rank").getAsInt(),
                    c.get("lower").getAsDouble(), c.get("upper").getAsDouble()));
        }
        assertTrue(cases.size() >= 8, "golden file has " + cases.size() + " cases");
        return cases;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void matchesTheNumpyReference(GoldenCase c) {
        double[] sv = DecomposeFixtures.singularValues(c.matrix());
        assertEquals(c.singularValues().length, sv.length, "number of singular values");
        for (int i = 0; i < sv.length; i++) {
            // EJML vs LAPACK in double: agreement to ~1e-13 relative to the largest singular value.
            assertEquals(c.singularValues()[i], sv[i], 1e-11 * c.singularValues()[0], "singular value " + i);
        }
        Evbmf.Result r = Evbmf.estimate(sv, c.matrix().numRows, c.matrix().numCols);
        assertEquals(c.lower(), r.lowerBound(), 1e-12 * c.upper(), "lower bound");
        assertEquals(c.upper(), r.upperBound(), 1e-12 * c.upper(), "upper bound");
        // The objective is flat at its minimum, so both minimisers stop within ~1e-8 relative of it (the generator
        // shows SciPy's own two runs differing by up to 4e-8); 1e-6 leaves room without hiding a formula error.
        assertEquals(c.sigma2(), r.sigma2(), 1e-12 + 1e-6 * c.sigma2(), "sigma2");
        assertEquals(c.threshold(), r.threshold(), 1e-12 + 1e-6 * c.threshold(), "threshold");
        assertEquals(c.rank(), r.rank(), "rank");
    }

    @ParameterizedTest(name = "{0}x{1} planted rank {2}")
    @CsvSource({"30, 90, 6", "90, 30, 6", "40, 40, 3", "16, 144, 5", "64, 576, 12", "50, 50, 1"})
    void findsAPlantedRankUnderSmallNoise(int rows, int cols, int rank) {
        Rng rng = new Rng(rows * 1000L + cols + rank);
        // Signal well above the noise edge √rows + √cols (noise std 1): top singular value 20·(√rows + √cols).
        double edge = Math.sqrt(rows) + Math.sqrt(cols);
        DMatrixRMaj m = DecomposeFixtures.planted(rng, rows, cols, rank, 20 * edge, 1.0);
        Evbmf.Result r = Evbmf.estimate(DecomposeFixtures.singularValues(m), rows, cols);
        assertEquals(rank, r.rank(), "EVBMF rank, sigma2 " + r.sigma2());
        // The estimated noise variance is close to the true 1 (the planted part carries no noise energy).
        assertEquals(1.0, r.sigma2(), 0.15, "sigma2");
    }

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"24, 24", "16, 144", "100, 20", "1, 9"})
    void pureNoiseHasRankZeroAndThePolicyFloorsIt(int rows, int cols) {
        DMatrixRMaj m = DecomposeFixtures.gaussian(new Rng(rows + 7L * cols), rows, cols, 0.01);
        double[] sv = DecomposeFixtures.singularValues(m);
        assertEquals(0, Evbmf.estimate(sv, rows, cols).rank(), "raw EVBMF rank of noise");
        RankPolicy.Choice c = RankPolicy.parse("evbmf").choose(RankPolicy.Side.OUT, sv, rows, cols);
        assertEquals(0, c.estimate());
        assertTrue(c.floorHit(), "floor must be reported");
        assertEquals(Math.max(1, (int) Math.ceil(0.03 * Math.min(rows, cols))), c.rank());
        assertTrue(c.rank() >= 1);
    }

    @Test
    void zeroMatrixAndExactlyLowRankMatrixAreHandled() {
        assertEquals(0, Evbmf.estimate(new double[] {0, 0, 0}, 3, 5).rank());
        // Exactly rank 2 (the other singular values are 0): the lower bound is 0, ln σ² must not blow up.
        Evbmf.Result r = Evbmf.estimate(new double[] {50, 40, 0, 0, 0, 0}, 6, 8);
        assertEquals(2, r.rank());
        assertTrue(Double.isFinite(r.sigma2()) && r.sigma2() > 0, "sigma2 " + r.sigma2());
    }

    @Test
    void rejectsASpectrumThatIsNotFullOrNotSorted() {
        assertThrows(IllegalArgumentException.class, () -> Evbmf.estimate(new double[] {3, 2}, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> Evbmf.estimate(new double[] {1, 2, 3}, 3, 5));
    }

    @Test
    void transposeGivesTheSameEstimate() {
        DMatrixRMaj m = DecomposeFixtures.planted(new Rng(11), 20, 70, 4, 200, 1);
        double[] sv = DecomposeFixtures.singularValues(m);
        Evbmf.Result a = Evbmf.estimate(sv, 20, 70), b = Evbmf.estimate(sv, 70, 20);
        assertEquals(a.rank(), b.rank());
        assertEquals(a.sigma2(), b.sigma2(), 0.0);
    }
}
