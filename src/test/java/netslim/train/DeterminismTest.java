package netslim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.cli.Main;

/**
 * Same seed, same thread count, same GEMM → bit-identical training on the CPU (README "Reliability"): data order,
 * augmentation, dropout and initialisation all come from the seed, and every parallel kernel splits its work so that
 * each output element is summed in one fixed order. The Java GEMM splits only over output tiles, so with it the
 * thread count does not matter either; OpenBLAS (also {@code --gemm auto}) runs one whole call on one thread and
 * slabs of C on more, so 1 and 2 threads differ (measured by DeterminismProbe, not asserted here).
 */
class DeterminismTest {
    private static final SyntheticData TRAIN = new SyntheticData("synthetic train", 160, 8, 4, 21);
    private static final SyntheticData TEST = new SyntheticData("synthetic test", 40, 8, 4, 22);

    /** Two epochs of a net with dropout, default augmentation (crop + flip) and label smoothing: every RNG stream. */
    private static Map<String, float[]> train(int threads, String gemm) {
        Graph g = TinyModels.convNet(8, 6, 4, 0.3f, 4);
        TrainConfig c = TrainConfig.defaults(2).withBatchSize(32).withLr(0.05).withLabelSmoothing(0.1).withSeed(9);
        try (Backend b = CpuBackend.create(threads, Gemm.select(gemm, threads));
             Trainer t = new Trainer(g, "tiny", b, TRAIN, TEST, c, Map.of("model", "tiny"))) {
            t.train();
        }
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (String name : g.params().names()) weights.put(name, g.params().get(name).toArray());
        return weights;
    }

    static void assertBitIdentical(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        expected.forEach((name, w) -> assertArrayEquals(w, actual.get(name), what + ": " + name));
    }

    @ParameterizedTest(name = "{0} threads, --gemm {1}")
    @CsvSource({"1, auto", "2, auto", "3, auto", "2, openblas"})
    void sameSeedAndThreadsTrainBitIdentically(int threads, String gemm) {
        assertBitIdentical(train(threads, gemm), train(threads, gemm), threads + " threads, " + gemm);
    }

    @Test
    void theJavaGemmMakesTheThreadCountIrrelevant() {
        Map<String, float[]> one = train(1, "java");
        assertBitIdentical(one, train(2, "java"), "1 vs 2 threads");
        assertBitIdentical(one, train(3, "java"), "1 vs 3 threads");
    }

    /** The CLI end to end: zoo initialisation from --seed, then training, twice in a row. */
    @Test
    void theTrainCommandIsReproducible(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("idx");
        SyntheticData.writeIdxDir(data, 28, 64, 16, 8);
        Map<String, float[]> first = null;
        for (String out : new String[] {"a.nsm", "b.nsm"}) {
            StringWriter err = new StringWriter();
            int code = Main.execute(new String[] {"train", "--model", "googlenet-cifar", "--width", "0.0625", "--data",
                "idx:" + data, "--epochs", "1", "--batch", "32", "--seed", "7", "--device", "cpu", "--threads", "2",
                "--out", dir.resolve(out).toString()}, new PrintWriter(new StringWriter()), new PrintWriter(err, true));
            assertEquals(0, code, err.toString());
            Graph g = Nsm.load(dir.resolve(out));
            Map<String, float[]> w = new LinkedHashMap<>();
            for (String name : g.params().names()) w.put(name, g.params().get(name).toArray());
            if (first == null) first = w;
            else assertBitIdentical(first, w, "two runs of the same train command");
        }
    }
}
