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
        Files.createDirectories(dir.resolve("isdir.nsm"));
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

    /** {@code train} with {@code extra}, and {@code --model tiny --data idx:DIR --out never.nsm} unless given. */
    private static String[] trainArgs(String... extra) {
        List<String> a = new ArrayList<>(List.of("train"));
        a.addAll(List.of(extra));
        if (!a.contains("--model")) a.addAll(List.of("--model", model.toString()));
        if (!a.contains("--data")) a.addAll(List.of("--data", "idx:" + data));
        if (!a.contains("--out")) a.addAll(List.of("--out", dir.resolve("never.nsm").toString()));
        return a.toArray(new String[0]);
    }

    private static Arguments bad(String what, String... args) {
        return Arguments.of(what, args);
    }

    static Stream<Arguments> badTrainings() {
        String d = "idx:" + data, m3 = model3.toString();
        return Stream.of(
                bad("--epochs 0", trainArgs("--epochs", "0")),
                bad("no --epochs", trainArgs()),
                bad("--batch 0", trainArgs("--epochs", "1", "--batch", "0")),
                bad("--lr -1", trainArgs("--epochs", "1", "--lr", "-1")),
                bad("--schedule", trainArgs("--epochs", "1", "--schedule", "linear")),
                bad("--augment", trainArgs("--epochs", "1", "--augment", "rotate")),
                bad("unwritable --out", trainArgs("--epochs", "1", "--out", "/nonexistent/dir/m.nsm")),
                bad("--out is a directory", trainArgs("--epochs", "1", "--out", dir.resolve("isdir.nsm").toString())),
                bad("--out not .nsm", trainArgs("--epochs", "1", "--out", dir.resolve("m.onnx").toString())),
                bad("unknown data", trainArgs("--epochs", "1", "--data", "mnist")),
                bad("channels", trainArgs("--epochs", "1", "--model", m3)),
                bad("classes", trainArgs("--epochs", "1", "--model", "googlenet-cifar", "--num-classes", "7",
                        "--width", "0.05")),
                bad("finetune of a zoo name", "finetune", "--model", "googlenet-cifar", "--data", d, "--epochs", "1",
                        "--out", dir.resolve("never.nsm").toString()),
                bad("resume a plain model", trainArgs("--epochs", "1", "--out", model.toString(), "--resume")),
                bad("eval channels", "eval", "--model", m3, "--data", d),
                bad("eval --batch 0", "eval", "--model", model.toString(), "--data", d, "--batch", "0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badTrainings")
    void badInputIsOneLineExitTwoAndWritesNothing(String what, String[] args) {
        CliTest.Result r = cli(args);
        assertEquals(2, r.code(), what + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), what + ": stderr must be one line: " + err);
        assertFalse(err.contains("Exception"), err);
        assertFalse(err.contains("should be specified only once"), "the test's own arguments are wrong: " + err);
        assertTrue(r.out().isEmpty(), r.out());
        assertFalse(Files.exists(dir.resolve("never.nsm")));
    }

    @Test
    void mismatchMessagesNameModelAndData() {
        CliTest.Result r = cli(trainArgs("--epochs", "1", "--model", model3.toString()));
        assertTrue(r.err().contains("takes input 3x10x10"), r.err());
        assertTrue(r.err().contains("1x10x10 images (channels differ)"), r.err());
        r = cli(trainArgs("--epochs", "1", "--model", "googlenet-cifar", "--num-classes", "7", "--width", "0.05"));
        assertTrue(r.err().contains("has 7 outputs") && r.err().contains("has 10 classes"), r.err());
    }
}
