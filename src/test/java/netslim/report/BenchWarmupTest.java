package netslim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.nn.Graph;
import netslim.train.TinyModels;

/** {@link Bench}'s warm-up: at least the passes asked for, and on until the seconds asked for have passed. */
class BenchWarmupTest {
    @Test
    void passesAloneRunExactlyThatMany() {
        Graph g = TinyModels.convNet(8, 4, 5, 0.5f, 12);
        List<String> progress = new ArrayList<>();
        Bench.Result r;
        try (Backend cpu = CpuBackend.createDefault()) {
            r = Bench.run("tiny", g, cpu, 2, 3, 0, 2, progress::add);
        }
        assertEquals(3, r.warmup(), r.toString());
        assertEquals(3, progress.stream().filter(m -> m.startsWith("warm-up ")).count(), progress.toString());
        assertEquals(2, r.samplesMs().length);
    }

    @Test
    void secondsKeepItGoingPastThePasses() {
        Graph g = TinyModels.convNet(8, 4, 5, 0.5f, 12);
        Bench.Result inference, training;
        try (Backend cpu = CpuBackend.createDefault()) {
            inference = Bench.run("tiny", g, cpu, 2, 1, 0.25, 2, m -> { });
            training = Bench.train("tiny", g, cpu, 2, 0, 0.25, 2, m -> { });
        }
        for (Bench.Result r : new Bench.Result[] {inference, training}) {
            assertTrue(r.warmupSeconds() >= 0.25, r.toString());
            // a pass of this tiny model takes well under a millisecond: 0.25 s is many of them
            assertTrue(r.warmup() > 3, "warm-up passes: " + r.warmup());
        }
    }

    @Test
    void badSecondsAreRefused() {
        Graph g = TinyModels.convNet(8, 4, 5, 0.5f, 12);
        try (Backend cpu = CpuBackend.createDefault()) {
            for (double s : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
                assertThrows(IllegalArgumentException.class, () -> Bench.run("tiny", g, cpu, 1, 1, s, 1, m -> { }),
                        "seconds " + s);
            }
        }
    }
}
