package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.backend.cpu.ReferenceKernels;
import netslim.decompose.TuckerMetadata;
import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** {@code decompose} through the CLI, and a decomposed model through {@code stats} and {@code run}. */
class DecomposeCliTest {

    record Result(int code, String out, String err) {
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void decomposeThenStatsAndRun(@TempDir Path dir) {
        Path model = dir.resolve("d.nsm");
        Result r = cli("decompose", "--model", "resnet20-cifar", "--seed", "5", "--rank", "evbmf-weak:0.5",
                "--hooi-iters", "3", "--out", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layer1.0.conv1"), r.out());
        assertTrue(r.out().contains("skipped: 1x1 conv"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("total: 19 of 21 convs replaced; params 272,186 -> ")),
                r.out());
        // Layers run in parallel, so completion order varies: check that every layer reported, not which was last.
        assertTrue(r.err().contains("decompose [21/21] "), "progress on stderr: " + r.err());
        assertTrue(r.err().contains("] layer3.2.conv2 64x64x3x3: ranks"), "progress on stderr: " + r.err());
        Graph g = Nsm.load(model);
        assertEquals(19, TuckerMetadata.records(g).size());

        Result stats = cli("stats", "--model", model.toString(), "--json");
        assertEquals(0, stats.code(), stats.err());
        JsonObject s = JsonParser.parseString(stats.out()).getAsJsonObject();
        assertTrue(s.get("params").getAsLong() < 272_186L, stats.out());

        Tensor x = new Rng(8).uniform(Shape.of(2, 1, 28, 28));
        Path in = dir.resolve("x.npy"), out = dir.resolve("y.npy");
        Npy.write(in, x);
        Result run = cli("run", "--model", model.toString(), "--input", in.toString(), "--output", out.toString(),
                "--device", "cpu");
        assertEquals(0, run.code(), run.err());
        Tensor expected;
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.INFERENCE)) {
            expected = ex.forwardToHost(x);
        }
        Close.assertClose(Npy.read(out), expected, 1e-4, 1e-4, "run output of the decomposed model");
    }

    @Test
    void jsonHasTotalsAndOneEntryPerConv(@TempDir Path dir) {
        Path model = dir.resolve("g.nsm");
        Result r = cli("decompose", "--model", "googlenet-cifar", "--width", "0.25", "--rank", "evbmf", "--round-to",
                "8", "--layers", "b3.*,pre_layers.*", "--json", "--out", model.toString());
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        for (String key : new String[] {"model", "policy", "params_before", "params_after", "macs_before",
                "macs_after", "layers_replaced", "seconds", "layers"}) {
            assertTrue(o.has(key), key + " missing: " + o);
        }
        assertTrue(o.get("macs_after").getAsLong() < o.get("macs_before").getAsLong());
        JsonArray layers = o.getAsJsonArray("layers");
        assertTrue(layers.size() > 5);
        int replaced = 0;
        for (JsonElement e : layers) {
            JsonObject l = e.getAsJsonObject();
            String name = l.get("name").getAsString();
            assertTrue(name.startsWith("b3.") || name.startsWith("pre_layers."), name);
            if (l.get("status").getAsString().equals("tucker2")) {
                replaced++;
                for (JsonElement rank : l.getAsJsonArray("ranks")) {
                    int v = rank.getAsInt();
                    assertTrue(v % 8 == 0 || v == l.getAsJsonArray("shape").get(0).getAsInt()
                            || v == l.getAsJsonArray("shape").get(1).getAsInt(), "round-to 8: " + l);
                }
                assertTrue(l.get("floor_hit").getAsBoolean(), "random weights: the floor decides: " + l);
            } else {
                assertTrue(l.has("reason"), l.toString());
            }
        }
        assertEquals(replaced, o.get("layers_replaced").getAsInt());
        Result stats = cli("stats", "--model", model.toString(), "--json");
        assertEquals(0, stats.code(), stats.err());
        assertEquals(o.get("params_after").getAsLong(),
                JsonParser.parseString(stats.out()).getAsJsonObject().get("params").getAsLong());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--rank=evbmf:2", "--rank=energy:0", "--rank=fixed:0", "--device=cuda", "--device=tpu",
            "--hooi-iters=-1", "--round-to=0", "--rank-floor=2", "--layers=nothing*", "--out=OUT.onnx"})
    void badOptionsExitTwoWithOneLineAndWriteNothing(String bad, @TempDir Path dir) {
        Path out = dir.resolve("m.nsm");
        String[] args = {"decompose", "--model", "resnet20-cifar", "--rank", "evbmf", "--out", out.toString(), bad};
        if (bad.startsWith("--out=")) args[args.length - 1] = "--out=" + dir.resolve("m.onnx");
        Result r = cli(args);
        assertEquals(2, r.code(), r.out() + r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("netslim: "), r.err());
        assertFalse(last.contains("Exception"), last);
        assertFalse(Files.exists(out), "no output on error");
        assertEquals("", r.out());
    }

    @Test
    void badRankNamesTheForms() {
        Result r = cli("decompose", "--model", "resnet20-cifar", "--rank", "svd", "--out", "/tmp/never.nsm");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("evbmf-weak:W") && r.err().contains("fixed:R3,R4"), r.err());
    }
}
