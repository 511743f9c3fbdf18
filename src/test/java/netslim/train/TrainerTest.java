package netslim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.data.Augmentation;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.tensor.Tensor;

class TrainerTest {
    private static final int SIDE = 8, CLASSES = 4;
    private static final SyntheticData TRAIN = new SyntheticData("synthetic train", 192, SIDE, CLASSES, 11);
    private static final SyntheticData TEST = new SyntheticData("synthetic test", 50, SIDE, CLASSES, 12);

    private static Backend cpu() {
        return CpuBackend.create(2, Gemm.select("auto", 2));
    }

    /** 3 epochs of 6 batches of 32, dropout, default augmentation (crop + flip): every RNG stream is in play. */
    private static TrainConfig config() {
        return TrainConfig.defaults(3).withBatchSize(32).withLr(0.05)
                .withSchedule(LrSchedule.Kind.COSINE, 0.5, List.of(), 0.1).withLabelSmoothing(0.1).withSeed(5);
    }

    private static Trainer trainer(Graph g, Backend b, TrainConfig c) {
        return new Trainer(g, "tiny", b, TRAIN, TEST, c, Map.of("model", "tiny"));
    }

    @Test
    void learnsASeparableTaskTo100Percent() {
        Graph g = TinyModels.convNet(SIDE, 6, CLASSES, 0, 1);
        TrainConfig c = TrainConfig.defaults(4).withBatchSize(16).withLr(0.05).withAugmentation(Augmentation.NONE);
        try (Backend b = cpu(); Trainer t = trainer(g, b, c)) {
            TrainResult r = t.train();
            assertFalse(r.stopped());
            assertEquals(1.0, r.test().top1(), "test top-1; history " + r.history());
            assertEquals(1.0, r.history().get(3).trainAccuracy(), "last epoch's training accuracy");
            assertEquals(4, r.history().size());
            assertTrue(r.history().get(3).trainLoss() < r.history().get(0).trainLoss() / 2, "loss fell: " + r.history());
            assertEquals(TEST.size(), r.test().count());
        }
    }

    /** Stops (as Ctrl-C does) after {@code stopEpoch}'s step {@code stopStep} (0 = at the epoch boundary). */
    @ParameterizedTest(name = "stop in epoch {0} after step {1}")
    @CsvSource({"1, 0", "2, 3", "1, 1"})
    void resumedRunEndsBitIdenticalToAnUninterruptedOne(int stopEpoch, int stopStep, @TempDir Path dir) {
        Path straightFile = dir.resolve("straight.nsm"), resumedFile = dir.resolve("resumed.nsm");
        Graph straight = TinyModels.convNet(SIDE, 5, CLASSES, 0.3f, 2);
        TrainResult full;
        try (Backend b = cpu(); Trainer t = trainer(straight, b, config())) {
            full = t.checkpointTo(straightFile).train();
        }

        Graph first = TinyModels.convNet(SIDE, 5, CLASSES, 0.3f, 2);
        try (Backend b = cpu(); Trainer t = trainer(first, b, config())) {
            t.checkpointTo(resumedFile).listener(new TrainListener() {
                @Override
                public void stepDone(StepInfo s) {
                    if (s.epoch() + 1 == stopEpoch && s.step() == stopStep) t.requestStop();
                }

                @Override
                public void epochFinished(EpochMetrics m) {
                    if (m.epoch() == stopEpoch && stopStep == 0) t.requestStop();
                }
            });
            TrainResult part = t.train();
            assertTrue(part.stopped());
            int expectEpoch = stopStep == 0 ? stopEpoch : stopEpoch - 1;
            assertEquals(expectEpoch, part.state().epoch());
            assertEquals(stopStep, part.state().stepInEpoch());
            assertEquals((long) expectEpoch * 6 + stopStep, part.state().globalStep());
        }

        Checkpoint.Loaded ck = Checkpoint.load(resumedFile);
        assertEquals(stopStep, ck.state().stepInEpoch());
        TrainResult resumed;
        try (Backend b = cpu(); Trainer t = trainer(ck.graph(), b, ck.state().config())) {
            resumed = t.resume(ck, resumedFile.toString()).checkpointTo(resumedFile).train();
        }
        assertFalse(resumed.stopped());
        for (String p : straight.params().names()) {
            assertArrayEquals(straight.params().get(p).toArray(), ck.graph().params().get(p).toArray(), p);
        }
        Checkpoint.Loaded a = Checkpoint.load(straightFile), c = Checkpoint.load(resumedFile);
        for (String p : a.velocities().keySet()) {
            assertArrayEquals(a.velocities().get(p).toArray(), c.velocities().get(p).toArray(), "velocity " + p);
        }
        assertEquals(a.state().executorRng(), c.state().executorRng());
        assertEquals(full.test().top1(), resumed.test().top1());
        for (int e = 0; e < 3; e++) {
            EpochMetrics x = full.history().get(e), y = resumed.history().get(e);
            assertEquals(x.trainLoss(), y.trainLoss(), "train loss of epoch " + (e + 1));
            assertEquals(x.trainAccuracy(), y.trainAccuracy());
            assertEquals(x.testTop1(), y.testTop1());
            assertEquals(x.lr(), y.lr());
        }
    }

    @Test
    void checkpointHoldsStateAndOptimizerTensorsAndLoadsAsAPlainModel(@TempDir Path dir) {
        Path file = dir.resolve("ck.nsm");
        Graph g = TinyModels.convNet(SIDE, 4, CLASSES, 0.2f, 3);
        TrainConfig c = config().withEpochs(1);
        long rngAfter;
        double lastLr;
        try (Backend b = cpu(); Trainer t = trainer(g, b, c)) {
            t.checkpointTo(file).train();
            rngAfter = t.state().executorRng();
            lastLr = t.schedule().at(5);
        }
        List<String> entries = Nsm.entryNames(file);
        assertTrue(entries.contains("graph.json") && entries.contains("conv1.weight.npy"), entries.toString());
        assertTrue(entries.contains(Checkpoint.STATE_ENTRY), entries.toString());
        for (String p : List.of("conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "fc.weight")) {
            assertTrue(entries.contains("optim/" + p + ".npy"), p + " velocity in " + entries);
        }
        assertFalse(entries.contains("optim/bn1.running_mean.npy"), "buffers have no optimizer state");

        Graph plain = Nsm.load(file);
        for (String p : g.params().names()) assertArrayEquals(g.params().get(p).toArray(), plain.params().get(p).toArray(), p);

        TrainState s = Checkpoint.load(file).state();
        assertEquals(1, s.epoch());
        assertEquals(0, s.stepInEpoch());
        assertEquals(6, s.globalStep());
        assertEquals(lastLr, s.lr());
        assertEquals(rngAfter, s.executorRng());
        assertEquals(c, s.config());
        assertEquals(1, s.history().size());
        assertEquals(Map.of("model", "tiny"), s.run());
        assertTrue(s.complete());
    }

    @Test
    void trainStateJsonRoundTripsExactly() {
        TrainConfig c = config().withSeed(Long.MIN_VALUE + 7).withAugmentation(new Augmentation(3, false));
        TrainState s = new TrainState(c, 2, 17, 1L << 40, 0.012345678901234567, -1234567890123456789L,
                new EpochProgress(17, 544, 300, 12.345678901234567, 3.25),
                List.of(new EpochMetrics(1, 0.5, 0.75, Double.NaN, 0.99, 0.3, 0.1, 2.5, 100.25)), Map.of("data", "x"));
        TrainState back = TrainStateJson.decode(TrainStateJson.encode(s), "test");
        assertEquals(s.toString(), back.toString());
        assertThrows(NetslimException.class, () -> TrainStateJson.decode("{\"format\":\"x\",\"version\":1}".getBytes(), "f"));
        assertThrows(NetslimException.class, () -> TrainStateJson.decode("not json".getBytes(), "f"));
    }

    @Test
    void nanLossStopsNamingEpochAndStepAndLeavesTheLastCheckpointIntact(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ck.nsm");
        Graph g = TinyModels.convNet(SIDE, 4, CLASSES, 0, 4);
        byte[][] saved = new byte[1][];
        try (Backend b = cpu(); Trainer t = trainer(g, b, config())) {
            t.checkpointTo(file).listener(new TrainListener() {
                @Override
                public void checkpointSaved(Path f, TrainState s) {
                    try {
                        saved[0] = Files.readAllBytes(f);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }

                @Override
                public void epochFinished(EpochMetrics m) {
                    g.params().get("conv2.weight").set(3, Float.NaN); // poison after epoch 1's checkpoint
                }
            });
            NonFiniteException e = assertThrows(NonFiniteException.class, t::train);
            assertTrue(e.getMessage().contains("epoch 2/3, step 1/6"), e.getMessage());
            assertTrue(e.getMessage().contains("loss is NaN"), e.getMessage());
            assertTrue(e.getMessage().contains("(after epoch 1) is unchanged"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertArrayEquals(saved[0], Files.readAllBytes(file), "checkpoint file unchanged");
        Checkpoint.Loaded ck = Checkpoint.load(file);
        assertEquals(1, ck.state().epoch());
        for (float v : ck.graph().params().get("conv2.weight").toArray()) assertTrue(Float.isFinite(v));
    }

    @Test
    void aHugeLearningRateDivergesIntoTheGuard() {
        Graph g = TinyModels.convNet(SIDE, 4, CLASSES, 0, 5);
        TrainConfig c = config().withLr(1e30).withSchedule(LrSchedule.Kind.STEP, 0, List.of(), 1);
        try (Backend b = cpu(); Trainer t = trainer(g, b, c)) {
            NonFiniteException e = assertThrows(NonFiniteException.class, t::train);
            assertTrue(e.getMessage().matches("training diverged at epoch 1/3, step [2-6]/6 .*"), e.getMessage());
            assertTrue(e.getMessage().contains("no checkpoint was being written"), e.getMessage());
        }
    }

    @Test
    void dataThatDoesNotFitTheModelIsRefusedBeforeTraining() {
        Graph g = TinyModels.convNet(SIDE, 4, CLASSES, 0, 6);
        try (Backend b = cpu()) {
            String m = assertThrows(NetslimException.class, () -> new Trainer(g, "tiny", b,
                    new SyntheticData("wide", 64, 12, CLASSES, 1), null, config(), Map.of())).getMessage();
            assertTrue(m.contains("model tiny takes input 1x8x8") && m.contains("wide has 1x12x12"), m);
            m = assertThrows(NetslimException.class, () -> new Trainer(g, "tiny", b,
                    new SyntheticData("two", 64, SIDE, 2, 1), null, config(), Map.of())).getMessage();
            assertTrue(m.contains("4 outputs") && m.contains("two has 2 classes"), m);
            m = assertThrows(NetslimException.class, () -> new Trainer(g, "tiny", b, TRAIN.withLabel(9, 7), null,
                    config(), Map.of())).getMessage();
            assertTrue(m.contains("example 9 has label 7"), m);
        }
    }

    @Test
    void graphWeightsChangeInPlaceAndBatchNormStatisticsAreUpdated() {
        Graph g = TinyModels.convNet(SIDE, 4, CLASSES, 0, 7);
        Tensor mean = g.params().get("bn1.running_mean");
        float before = mean.get(0);
        try (Backend b = cpu(); Trainer t = trainer(g, b, config().withEpochs(1))) {
            t.train();
        }
        assertTrue(mean.get(0) != before, "BN running mean was updated in the graph");
    }
}
