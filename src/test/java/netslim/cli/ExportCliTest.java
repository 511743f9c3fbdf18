package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.io.Nsm;
import netslim.io.OnnxImporter;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.tensor.Shape;

/** {@code export}: zoo names and model files to ONNX, JSON summary, one-line errors with exit 2. */
class ExportCliTest {
    @TempDir
    Path dir;

    @Test
    void exportsAZooModelWithJsonSummary() {
        Path out = dir.resolve("gc.onnx");
        CliTest.Result r = CliTest.cli("export", "--model", "googlenet-cifar", "--width", "0.125", "--onnx",
                out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertEquals(13, o.get("opset").getAsInt());
        assertTrue(o.get("batchnorm_folded").getAsInt() > 50, o.toString());
        assertEquals(o.get("bytes").getAsLong(), out.toFile().length());
        Graph back = OnnxImporter.load(out);
        assertEquals(Shape.of(1, 28, 28), back.inputShape());
        assertTrue(back.metadata().get("zoo").contains("googlenet-cifar"), "zoo metadata travels with the file");
    }

    @Test
    void exportsAModelFileAndSaysWhatItWrote() {
        Path nsm = dir.resolve("r.nsm"), out = dir.resolve("r.onnx");
        Graph g = Zoo.create("resnet20-cifar", null);
        long bns = g.nodes().stream().filter(n -> n.layer() instanceof netslim.nn.Layer.BatchNorm2d).count();
        Nsm.save(g, nsm);
        CliTest.Result r = CliTest.cli("export", "--model", nsm.toString(), "--onnx", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("wrote " + out + ": "), r.out());
        assertTrue(r.out().contains(bns + " BatchNorms folded"), r.out());
        assertTrue(Files.isRegularFile(out));
    }

    @Test
    void unwritableTargetAndMissingModelExitTwoWithOneLine() {
        CliTest.Result r = CliTest.cli("export", "--model", "resnet20-cifar", "--onnx",
                dir.resolve("missing/dir/x.onnx").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("x.onnx"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        CliTest.Result m = CliTest.cli("export", "--model", dir.resolve("none.nsm").toString(), "--onnx",
                dir.resolve("y.onnx").toString());
        assertEquals(2, m.code());
        assertTrue(m.err().contains("none.nsm"), m.err());
        assertFalse(Files.exists(dir.resolve("y.onnx")));
    }
}
