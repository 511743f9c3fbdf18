package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** The CLI contract: outputs, JSON keys, exit codes and one-line errors. */
class CliTest {

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void statsGooglenetMatchesTorchvisionCounts() {
        Result r = cli("stats", "--model", "googlenet", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(6_624_904L, o.get("params").getAsLong());
        assertEquals(1_498_376_192L, o.get("macs").getAsLong());
        JsonObject first = o.getAsJsonArray("layers").get(0).getAsJsonObject();
        for (String key : new String[] {"name", "kind", "in_channels", "out_channels", "kernel", "stride", "groups",
                "output_shape", "params", "macs"}) {
            assertTrue(first.has(key), "layer entry lacks " + key + ": " + first);
        }
        assertEquals("Conv2d", first.get("kind").getAsString());
        assertEquals(7, first.getAsJsonArray("kernel").get(0).getAsInt());
    }

    @Test
    void statsTableNamesTheConvention() {
        Result r = cli("stats", "--model", "resnet20-cifar");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("MACs = multiply-adds of conv and linear"), r.out());
    }

    @Test
    void benchJsonHasLatencyKeys() {
        Result r = cli("bench", "--model", "resnet20-cifar", "--batch", "2", "--iters", "3", "--warmup", "1",
                "--warmup-seconds", "0.3", "--device", "cpu", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        // the warm-up ran on until --warmup-seconds had passed, and says how many iterations that took
        assertTrue(o.get("warmup_s").getAsDouble() >= 0.3, o.toString());
        assertTrue(o.get("warmup").getAsInt() >= 1, o.toString());
        for (String key : new String[] {"median_ms", "p10_ms", "p90_ms", "images_per_s"}) {
            assertTrue(o.get(key).getAsDouble() > 0, key + " in " + o);
        }
        assertTrue(o.get("p10_ms").getAsDouble() <= o.get("median_ms").getAsDouble());
        assertTrue(o.get("median_ms").getAsDouble() <= o.get("p90_ms").getAsDouble());
        assertEquals("infer", o.get("mode").getAsString());
        // the same MAC count as stats --json (the compressed-vs-dense tables divide these)
        Result stats = cli("stats", "--model", "resnet20-cifar", "--json");
        assertEquals(JsonParser.parseString(stats.out()).getAsJsonObject().get("macs").getAsLong(),
                o.get("macs_per_image").getAsLong());
        assertTrue(o.get("cuda_graph") == null, "cuda_graph is reported only on a GPU: " + o);
    }

    /**
     * {@code bench --layers}: one entry per node of the serving plan (BatchNorm folded away, so no BatchNorm entry),
     * each with a non-negative median and the layer's MACs as {@code stats} counts them; the text form lists the
     * N slowest.
     */
    @Test
    void benchLayersListsEveryNodeOfTheServingPlan() {
        Result r = cli("bench", "--model", "resnet20-cifar", "--batch", "2", "--iters", "2", "--warmup", "1", "--warmup-seconds", "0",
                "--device", "cpu", "--layers", "--json");
        assertEquals(0, r.code(), r.err());
        var layers = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("layers");
        netslim.nn.Graph folded = netslim.nn.BatchNormFolding.fold(
                netslim.nn.models.Zoo.create("resnet20-cifar", null)).graph();
        assertEquals(folded.nodes().size(), layers.size(), r.out());
        var stats = netslim.report.ModelStats.of("resnet20-cifar", folded);
        java.util.Map<String, Long> macs = new java.util.HashMap<>();
        stats.layers().forEach(l -> macs.put(l.name(), l.macs()));
        double previous = Double.POSITIVE_INFINITY;
        for (var e : layers) {
            JsonObject l = e.getAsJsonObject();
            assertTrue(macs.containsKey(l.get("name").getAsString()), l.toString());
            assertEquals(macs.get(l.get("name").getAsString()), l.get("macs").getAsLong(), l.toString());
            assertTrue(!l.get("kind").getAsString().equals("BatchNorm2d"), "BatchNorm is folded: " + l);
            double ms = l.get("median_ms").getAsDouble();
            assertTrue(ms >= 0 && ms <= previous, "sorted slowest first: " + l);
            previous = ms;
        }
        Result text = cli("bench", "--model", "resnet20-cifar", "--iters", "2", "--warmup", "0", "--warmup-seconds", "0", "--device", "cpu",
                "--layers", "3");
        assertEquals(0, text.code(), text.err());
        assertEquals(3, text.out().lines().filter(line -> line.contains("Conv2d") || line.contains("Linear")
                || line.contains("Pool") || line.contains("ReLU") || line.contains("Add")).count(), text.out());
    }

    /** {@code bench --train}: the inference keys, all present and positive, plus "mode": "train"; a .nsm model too. */
    @Test
    void benchTrainJsonHasTheInferenceKeysAndModeTrain(@TempDir Path dir) {
        Path file = dir.resolve("tiny.nsm");
        Nsm.save(netslim.train.TinyModels.convNet(8, 4, 10, 0.2f, 1), file);
        for (String model : new String[] {"resnet20-cifar", file.toString()}) {
            Result r = cli("bench", "--model", model, "--train", "--batch", "2", "--iters", "2", "--warmup", "1", "--warmup-seconds", "0",
                    "--device", "cpu", "--threads", "1", "--gemm", "java", "--json");
            assertEquals(0, r.code(), r.err());
            JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
            for (String key : new String[] {"median_ms", "p10_ms", "p90_ms", "images_per_s", "batch", "iters"}) {
                assertTrue(o.get(key).getAsDouble() > 0, key + " in " + o);
            }
            for (String key : new String[] {"model", "device", "backend", "warmup"}) assertTrue(o.has(key), key);
            assertEquals("train", o.get("mode").getAsString());
            assertEquals(2, o.get("batch").getAsInt());
            assertEquals("cpu", o.get("device").getAsString());
        }
    }

    @Test
    void runWritesTheLogitsTheExecutorComputes(@TempDir Path dir) {
        Tensor x = new Rng(3).uniform(Shape.of(2, 1, 28, 28));
        Path in = dir.resolve("x.npy"), out = dir.resolve("y.npy");
        Npy.write(in, x);
        Result r = cli("run", "--model", "resnet20-cifar", "--seed", "7", "--input", in.toString(), "--output",
                out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        Graph g = Zoo.create("resnet20-cifar", new Zoo.Options(0, null, 1.0, 7));
        Tensor expected;
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.INFERENCE)) {
            expected = ex.forwardToHost(x);
        }
        Close.assertClose(Npy.read(out), expected, 1e-4, 1e-4, "run output");
    }

    static Stream<Arguments> badInvocations() {
        return Stream.of(
                Arguments.of((Object) new String[] {}),
                Arguments.of((Object) new String[] {"frobnicate"}),
                Arguments.of((Object) new String[] {"stats"}),
                Arguments.of((Object) new String[] {"stats", "--model", "nosuchnet"}),
                Arguments.of((Object) new String[] {"stats", "--model", "/nonexistent/m.onnx"}),
                Arguments.of((Object) new String[] {"stats", "--model", "googlenet-cifar", "--input", "3xfoo"}),
                Arguments.of((Object) new String[] {"stats", "--model", "googlenet-cifar", "--width", "-1"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--batch", "0"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--device", "tpu"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--device", "cuda"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--gemm", "fortran"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--train", "--iters", "0"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--layers", "0"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--layers", "--train"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--train", "--warmup", "-1"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--warmup-seconds", "-1"}),
                Arguments.of((Object) new String[] {"bench", "--model", "resnet20-cifar", "--warmup-seconds", "NaN"}),
                Arguments.of((Object) new String[] {"run", "--model", "resnet20-cifar", "--input", "/nonexistent.npy",
                        "--output", "/tmp/never.npy"}));
    }

    @ParameterizedTest
    @MethodSource("badInvocations")
    void badInputIsOneLineExitTwo(String[] args) {
        Result r = cli(args);
        assertEquals(2, r.code(), "exit code for " + String.join(" ", args) + "; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.isEmpty(), "no message");
        assertEquals(1, err.lines().count(), "stderr must be one line: " + err);
        assertFalse(err.contains("Exception"), "no exception class names without --debug: " + err);
        assertTrue(r.out().isEmpty() || !r.out().contains("{"), "no JSON on failure: " + r.out());
    }

    @Test
    void runRejectsAWrongShapeAndWritesNothing(@TempDir Path dir) {
        Path model = dir.resolve("m.nsm"), in = dir.resolve("x.npy"), out = dir.resolve("y.npy");
        Nsm.save(Zoo.create("resnet20-cifar", Zoo.Options.defaults()), model); // takes 1x28x28
        Npy.write(in, Tensor.zeros(2, 3, 32, 32));
        Result r = cli("run", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(),
                "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("x.npy"), r.err());
        assertFalse(Files.exists(out));
    }

    /** Corrupt or truncated model and input files: one line naming the file, exit 2, no output written. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"model.onnx", "model.nsm", "input.npy"})
    void corruptFilesAreOneLineErrorsNamingTheFile(String broken, @TempDir Path dir) throws Exception {
        Path model = dir.resolve("model.nsm"), input = dir.resolve("input.npy"), out = dir.resolve("y.npy");
        Nsm.save(Zoo.create("resnet20-cifar", Zoo.Options.defaults()), model);
        Npy.write(input, new Rng(1).uniform(Shape.of(1, 1, 28, 28)));
        Path bad = dir.resolve(broken);
        if (broken.endsWith(".onnx")) {
            Files.write(bad, new byte[] {8, 7, 18, 4, 't', 'o', 'r', 'c', 0x3a, (byte) 0xff, 1, 2, 3});
        } else {
            byte[] whole = Files.readAllBytes(bad);
            Files.write(bad, java.util.Arrays.copyOf(whole, whole.length * 2 / 3)); // truncated
        }
        Path usedModel = broken.endsWith(".onnx") ? bad : model;
        Result r = cli("run", "--model", usedModel.toString(), "--input", input.toString(), "--output", out.toString(),
                "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(broken), "message must name " + broken + ": " + err);
        assertFalse(Files.exists(out), "no output on failure");
    }

    @Test
    void debugPrintsTheStackTrace() {
        Result r = cli("stats", "--model", "nosuchnet", "--debug");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("at netslim."), r.err());
    }
}
