package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.io.Nsm;
import netslim.train.SyntheticData;

/** The demo's path end to end on a tiny IDX set and a tiny width (the real demo takes minutes). */
class DemoTest {
    @Test
    void trainsThenCompressesAndPrintsTheComparison(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("idx"), out = dir.resolve("demo-out");
        SyntheticData.writeIdxDir(data, 10, 96, 40, 51);
        CliTest.Result r = CliTest.cli("demo", "--data", "idx:" + data, "--width", "0.0625", "--train-limit", "64",
                "--test-limit", "40", "--finetune-limit", "32", "--search-steps", "1", "--bench-iters", "1",
                "--out-dir", out.toString(), "--device", "cpu", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("test top-1") && r.out().contains("on 40 test images"), r.out());
        for (String variant : List.of("baseline", "prune", "tucker", "prune+tucker")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| " + variant + " ")), variant + ": " + r.out());
        }
        Path report = out.resolve("report");
        assertTrue(r.out().contains("report: " + report.resolve("report.md")), r.out());
        assertTrue(r.err().contains("epoch 1: train loss"), r.err());
        assertTrue(r.err().contains("search point 3: prune+tucker"), "one point per variant: " + r.err());
        assertEquals(10, Nsm.load(out.resolve("googlenet-cifar.nsm")).inputShape().dim(2));
        JsonObject o = JsonParser.parseString(Files.readString(report.resolve("report.json"))).getAsJsonObject();
        assertEquals(4, o.getAsJsonArray("variants").size());
        assertEquals(3, o.getAsJsonArray("points").size());
        assertEquals(40, o.get("eval_images").getAsInt());
        assertEquals(32, o.get("finetune_images").getAsInt());
        for (String f : List.of("report.md", "pareto.png", "layers.png", "prune.nsm", "tucker.nsm", "prune+tucker.nsm")) {
            assertTrue(Files.isRegularFile(report.resolve(f)), f);
        }
    }
}
