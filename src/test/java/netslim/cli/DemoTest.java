package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.io.Nsm;
import netslim.train.SyntheticData;

/** The demo's path end to end on a tiny IDX set and a tiny width (the real demo takes minutes). */
class DemoTest {
    @Test
    void trainsEvaluatesSavesAndBenchmarks(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("idx"), out = dir.resolve("demo-out");
        SyntheticData.writeIdxDir(data, 10, 96, 40, 51);
        CliTest.Result r = CliTest.cli("demo", "--data", "idx:" + data, "--width", "0.0625", "--train-limit", "64",
                "--test-limit", "40", "--out-dir", out.toString(), "--device", "cpu", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("test top-1") && r.out().contains("on 40 test images"), r.out());
        assertTrue(r.out().contains("bench batch 32"), r.out());
        assertTrue(r.out().contains("not yet in the demo: the compress comparison"), r.out());
        assertTrue(r.err().contains("epoch 1: train loss"), r.err());
        assertEquals(10, Nsm.load(out.resolve("googlenet-cifar.nsm")).inputShape().dim(2));
    }
}
