package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.train.Checkpoint;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;

/** train / eval / finetune through {@link Main#execute}: JSON keys, files written, exit codes, one-line errors. */
class TrainCliTest {
    @TempDir
    static Path dir;
    static Path data, model, model3;

    @BeforeAll
    static void fixtures() throws IOException {
        data = dir.resolve("idx");
        SyntheticData.writeIdxDir(data, 10, 320, 60, 31);
        model = dir.resolve("tiny.nsm");
        Nsm.save(TinyModels.convNet(10, 6, 10, 0.2f, 1), model);
        model3 = dir.resolve("tiny3.nsm");
        Graph three = TinyModels.convNet(10, 6, 10, 0, 1);
        Nsm.save(new netslim.nn.Graph(three.inputName(), netslim.tensor.Shape.of(3, 10, 10), rgbNodes(three),
                three.outputName(), three.params()), model3);
    }

    /** The tiny net's nodes with a 3-channel first conv (its weight is replaced by the right shape). */
    private static List<netslim.nn.Node> rgbNodes(Graph g) {
        List<netslim.nn.Node> nodes = new ArrayList<>();
        for (netslim.nn.Node n : g.nodes()) {
            if (n.name().equals("conv1")) {
                nodes.add(new netslim.nn.Node("conv1", new netslim.nn.Layer.Conv2d(
                        netslim.backend.ConvSpec.of(3, 6, 3, 1, 1), true), n.inputs()));
                g.params().put("conv1.weight", netslim.tensor.Tensor.zeros(6, 3, 3, 3));
            } else {
                nodes.add(n);
            }
        }
        return nodes;
    }

    static CliTest.Result cli(String... args) {
        return CliTest.cli(args);
    }

    private static String[] train(String cmd, String modelArg, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of(cmd, "--model", modelArg, "--data", "idx:" + data, "--epochs", "2",
                "--batch", "32", "--lr", "0.05", "--device", "cpu", "--threads", "2", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test
    void trainJsonThenEvalOfTheSavedModelAgrees() {
        Path out = dir.resolve("trained.nsm");
        CliTest.Result r = cli(train("train", model.toString(), out, "--json"));
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        for (String key : new String[] {"top1", "top5", "loss", "epochs", "seconds", "images_per_s"}) {
            assertTrue(o.has(key), key + " in " + o);
        }
        double top1 = o.get("top1").getAsDouble();
        assertTrue(top1 >= 0 && top1 <= 1 && o.get("top5").getAsDouble() >= top1, o.toString());
        assertEquals(2, o.get("epochs").getAsInt());
        assertTrue(o.get("images_per_s").getAsDouble() > 0);
        assertEquals(2, o.getAsJsonArray("history").size());
        assertTrue(Checkpoint.isCheckpoint(out));

        assertTrue(r.err().contains("epoch 1: train loss"), r.err());
        assertTrue(r.err().contains("epoch 2/2"), "progress bar line on stderr: " + r.err());
        assertFalse(r.err().contains("\r"), "no carriage returns when stderr is not a terminal");

        CliTest.Result e = cli("eval", "--model", out.toString(), "--data", "idx:" + data, "--device", "cpu",
                "--batch", "17", "--json");
        assertEquals(0, e.code(), e.err());
        JsonObject eo = JsonParser.parseString(e.out()).getAsJsonObject();
        assertEquals(top1, eo.get("top1").getAsDouble(), 1e-12, "eval of the checkpoint = train's final top-1");
        assertEquals(o.get("top5").getAsDouble(), eo.get("top5").getAsDouble(), 1e-12);
        assertEquals(60, eo.get("count").getAsInt());
        assertEquals(10, eo.getAsJsonObject("per_class").size());
        assertEquals(10, eo.getAsJsonArray("confusion").size());

        CliTest.Result text = cli("eval", "--model", out.toString(), "--data", "idx:" + data, "--device", "cpu");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("top-1"), text.out());
    }

    @Test
    void finetuneStartsFromTheFileAndWritesAnotherOne() {
        Path first = dir.resolve("ft-base.nsm"), second = dir.resolve("ft.nsm");
        assertEquals(0, cli(train("train", model.toString(), first)).code());
        CliTest.Result r = cli("finetune", "--model", first.toString(), "--data", "idx:" + data, "--epochs", "1",
                "--batch", "32", "--device", "cpu", "--out", second.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(1, o.get("epochs").getAsInt());
        assertTrue(r.err().contains("lr 0.01 cosine"), "finetune's default LR: " + r.err());
        assertTrue(Files.exists(second));
    }

    @Test
    void resumingACompletedRunOnlyEvaluatesAndChangedSettingsAreRefused() throws IOException {
        Path out = dir.resolve("resume.nsm");
        CliTest.Result first = cli(train("train", model.toString(), out, "--json"));
        assertEquals(0, first.code(), first.err());
        byte[] before = Files.readAllBytes(out);
        CliTest.Result again = cli(train("train", model.toString(), out, "--json", "--resume"));
        assertEquals(0, again.code(), again.err());
        assertEquals(JsonParser.parseString(first.out()).getAsJsonObject().get("top1"),
                JsonParser.parseString(again.out()).getAsJsonObject().get("top1"));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(out)), "nothing retrained");

        CliTest.Result changed = cli(train("train", model.toString(), out, "--resume", "--wd", "0.01"));
        assertEquals(2, changed.code());
        assertTrue(changed.err().contains("--wd 0.01 differs from the checkpoint's 5.0E-4"), changed.err());
    }

    static Stream<Arguments> badTrainings() {
        String d = "idx:" + data, m = model.toString(), out = dir.resolve("never.nsm").toString();
        return Stream.of(
                Arguments.of("--epochs 0", new String[] {"train", "--model", m, "--data", d, "--epochs", "0", "--out", out}),
                Arguments.of("no --epochs", new String[] {"train", "--model", m, "--data", d, "--out", out}),
                Arguments.of("--batch 0", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--batch", "0", "--out", out}),
                Arguments.of("--lr -1", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--lr", "-1", "--out", out}),
                Arguments.of("--schedule", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--schedule", "linear", "--out", out}),
                Arguments.of("--augment", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--augment", "rotate", "--out", out}),
                Arguments.of("unwritable --out", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--out", "/nonexistent/dir/m.nsm"}),
                Arguments.of("--out is a directory", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--out", dir.toString() + "/x.nsm/.."}),
                Arguments.of("--out not .nsm", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--out", dir.resolve("m.onnx").toString()}),
                Arguments.of("unknown data", new String[] {"train", "--model", m, "--data", "mnist", "--epochs", "1", "--out", out}),
                Arguments.of("channels", new String[] {"train", "--model", model3.toString(), "--data", d, "--epochs", "1", "--out", out}),
                Arguments.of("classes", new String[] {"train", "--model", "googlenet-cifar", "--num-classes", "7", "--width", "0.05", "--data", d, "--epochs", "1", "--out", out}),
                Arguments.of("finetune of a zoo name", new String[] {"finetune", "--model", "googlenet-cifar", "--data", d, "--epochs", "1", "--out", out}),
                Arguments.of("resume a plain model", new String[] {"train", "--model", m, "--data", d, "--epochs", "1", "--out", m, "--resume"}),
                Arguments.of("eval channels", new String[] {"eval", "--model", model3.toString(), "--data", d}),
                Arguments.of("eval --batch 0", new String[] {"eval", "--model", m, "--data", d, "--batch", "0"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTrainings")
    void badInputIsOneLineExitTwoAndWritesNothing(String what, String[] args) {
        CliTest.Result r = cli(args);
        assertEquals(2, r.code(), what + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), what + ": stderr must be one line: " + err);
        assertFalse(err.contains("Exception"), err);
        assertTrue(r.out().isEmpty(), r.out());
        assertFalse(Files.exists(dir.resolve("never.nsm")));
    }

    @Test
    void mismatchMessagesNameModelAndData() {
        CliTest.Result r = cli("train", "--model", model3.toString(), "--data", "idx:" + data, "--epochs", "1",
                "--out", dir.resolve("never.nsm").toString());
        assertTrue(r.err().contains("takes input 3x10x10") && r.err().contains("1x10x10 images (channels differ)"), r.err());
        r = cli("train", "--model", "googlenet-cifar", "--num-classes", "7", "--width", "0.05", "--data", "idx:" + data,
                "--epochs", "1", "--out", dir.resolve("never.nsm").toString());
        assertTrue(r.err().contains("has 7 outputs") && r.err().contains("has 10 classes"), r.err());
    }
}
