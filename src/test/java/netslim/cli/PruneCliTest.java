package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.backend.cpu.ReferenceKernels;
import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.prune.PruneHistory;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** The prune command: a pruned model saves, loads, and goes through stats and run; its JSON; its errors. */
class PruneCliTest {

    @Test
    void prunedModelSavesLoadsAndRuns(@TempDir Path dir) {
        Path model = dir.resolve("pruned.nsm");
        CliTest.Result r = CliTest.cli("prune", "--model", "googlenet-cifar", "--width", "0.25", "--ratio", "0.3",
                "--round-to", "4", "--out", model.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        long paramsAfter = o.get("params_after").getAsLong();
        assertTrue(paramsAfter < o.get("params_before").getAsLong(), r.out());
        assertTrue(o.get("macs_after").getAsLong() < o.get("macs_before").getAsLong(), r.out());
        JsonArray layers = o.getAsJsonArray("layers");
        assertEquals("pre_layers.0", layers.get(0).getAsJsonObject().get("name").getAsString());
        assertTrue(layers.asList().stream().anyMatch(l -> l.getAsJsonObject().get("kept").getAsInt()
                < l.getAsJsonObject().get("original").getAsInt()));

        Graph loaded = Nsm.load(model);
        assertEquals(1, PruneHistory.read(loaded).size());
        CliTest.Result stats = CliTest.cli("stats", "--model", model.toString(), "--json");
        assertEquals(0, stats.code(), stats.err());
        JsonObject s = JsonParser.parseString(stats.out()).getAsJsonObject();
        assertEquals(paramsAfter, s.get("params").getAsLong());
        assertEquals(o.get("macs_after").getAsLong(), s.get("macs").getAsLong());

        Tensor x = new Rng(5).uniform(Shape.of(2, 1, 28, 28));
        Path in = dir.resolve("x.npy"), out = dir.resolve("y.npy");
        Npy.write(in, x);
        CliTest.Result run = CliTest.cli("run", "--model", model.toString(), "--input", in.toString(), "--output",
                out.toString(), "--device", "cpu", "--gemm", "java");
        assertEquals(0, run.code(), run.err());
        Tensor expected;
        try (Executor ex = new Executor(loaded, new ReferenceKernels(), 2, Executor.Mode.INFERENCE)) {
            expected = ex.forwardToHost(x);
        }
        Close.assertClose(Npy.read(out), expected, 1e-4, 1e-4, "run output of the pruned model");
    }

    @Test
    void tableHasOneLinePerConvAndTotals(@TempDir Path dir) {
        CliTest.Result r = CliTest.cli("prune", "--model", "resnet20-cifar", "--ratio", "0.25", "--per-layer",
                "--out", dir.resolve("r.nsm").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("layer1\\.0\\.conv1\\s+12/16\\s+\\(75 %\\)")), r.out());
        assertTrue(r.out().contains("params 272,186 -> "), r.out());
        assertEquals(21, r.out().lines().filter(l -> l.matches("\\S+\\s+\\d+/\\d+.*")).count(), r.out());
    }

    @Test
    void taylorCriterionReadsTrainingData(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("idx");
        writeIdx(data, 48, 28, 28, 10, 3);
        Path model = dir.resolve("t.nsm");
        CliTest.Result r = CliTest.cli("prune", "--model", "resnet20-cifar", "--data", "idx:" + data, "--criterion",
                "taylor", "--ratio", "0.2", "--steps", "2", "--batch", "16", "--rank-batches", "2", "--device", "cpu", "--gemm", "java",
                "--out", model.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(2, o.getAsJsonArray("rounds").size());
        JsonObject run = PruneHistory.read(Nsm.load(model)).get(0).getAsJsonObject();
        assertEquals("taylor", run.get("criterion").getAsString());
        assertTrue(o.get("params_after").getAsLong() < o.get("params_before").getAsLong());
    }

    @Test
    void fineTuningBetweenRoundsReportsAccuracy(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("idx");
        writeIdx(data, 48, 28, 28, 10, 4);
        Path tiny = dir.resolve("tiny.nsm");
        Nsm.save(tinyNet(), tiny);
        CliTest.Result r = CliTest.cli("prune", "--model", tiny.toString(), "--data", "idx:" + data, "--ratio", "0.3",
                "--steps", "2", "--finetune-epochs", "1", "--batch", "16", "--test-limit", "16", "--device", "cpu", "--gemm", "java",
                "--out", dir.resolve("ft.nsm").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertTrue(o.has("top1_before") && o.has("top1_after"), r.out());
        JsonArray rounds = o.getAsJsonArray("rounds");
        assertEquals(2, rounds.size());
        for (var round : rounds) {
            double top1 = round.getAsJsonObject().get("top1").getAsDouble();
            assertTrue(top1 >= 0 && top1 <= 1, r.out());
        }
        assertTrue(r.err().contains("round 2/2: fine-tuned 1 epoch(s)"), r.err());
        assertEquals(o.get("params_after").getAsLong(), netslim.nn.models.Zoo.parameterCount(Nsm.load(dir.resolve("ft.nsm"))));
    }

    static Stream<Arguments> badInvocations() {
        return Stream.of(
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "1.5", "--out", "X"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3", "--out", "Y"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3",
                        "--criterion", "taylor", "--out", "X"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3",
                        "--criterion", "l3", "--out", "X"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3",
                        "--finetune-epochs", "1", "--out", "X"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3",
                        "--layers", "a,,b", "--out", "X"}),
                Arguments.of((Object) new String[] {"prune", "--model", "resnet20-cifar", "--ratio", "0.3",
                        "--round-to", "0", "--out", "X"}));
    }

    @ParameterizedTest
    @MethodSource("badInvocations")
    void badInputIsOneLineExitTwo(String[] args, @TempDir Path dir) {
        String[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals("X")) a[i] = dir.resolve("x.nsm").toString();
            if (a[i].equals("Y")) a[i] = dir.resolve("x.onnx").toString(); // not .nsm
        }
        CliTest.Result r = CliTest.cli(a);
        assertEquals(2, r.code(), String.join(" ", a) + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(r.out().isEmpty(), r.out());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing written");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** conv(1→8, /2) → BN → ReLU → conv(8→16, /2) → BN → ReLU → global pool → Linear(16→10): fast to fine-tune. */
    static Graph tinyNet() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(1, 28, 28));
        String x = b.relu("r1", b.bn("bn1", b.conv("c1", b.input(), 1, 8, 3, 2, 1, false), 8));
        x = b.relu("r2", b.bn("bn2", b.conv("c2", x, 8, 16, 3, 2, 1, false), 16));
        x = b.flatten("flat", b.globalAvgPool("gap", x));
        Graph g = b.build(b.linear("fc", x, 16, 10, true));
        Rng rng = new Rng(6);
        for (String name : List.of("c1.weight", "c2.weight", "fc.weight")) rng.fillUniform(g.params().get(name), -0.3f, 0.3f);
        return g;
    }

    /** An MNIST-layout IDX directory (train and t10k, uncompressed) of random images and labels. */
    static void writeIdx(Path dir, int n, int rows, int cols, int classes, long seed) throws IOException {
        Files.createDirectories(dir);
        Rng rng = new Rng(seed);
        ByteBuffer images = ByteBuffer.allocate(16 + n * rows * cols).putInt(0x803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n * rows * cols; i++) images.put((byte) rng.nextInt(256));
        ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
        for (int i = 0; i < n; i++) labels.put((byte) (i % classes));
        for (String prefix : new String[] {"train", "t10k"}) {
            Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), images.array());
            Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labels.array());
        }
    }
}
