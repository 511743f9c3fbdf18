package netslim.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.data.DataSpec;
import netslim.data.Dataset;
import netslim.data.Split;
import netslim.nn.Graph;

/** Real data (the Debian package dataset-fashion-mnist, installed by .ci/run): a tiny net's loss goes down. */
class FashionMnistTrainingTest {
    @Test
    void lossDecreasesOnASubset() {
        DataSpec spec = DataSpec.parse("fashion-mnist");
        Dataset train = spec.open(Split.TRAIN, 1536, null), test = spec.open(Split.TEST, 500, null);
        Graph g = TinyModels.convNet(28, 8, 10, 0, 1);
        TrainConfig c = TrainConfig.defaults(2).withBatchSize(32).withLr(0.1).withSeed(3);
        try (Backend b = CpuBackend.create(1, Gemm.select("auto", 1));
             Trainer t = new Trainer(g, "tiny", b, train, test, c, Map.of())) {
            double[] losses = new double[48 * 2];
            t.listener(new TrainListener() {
                @Override
                public void stepDone(StepInfo s) {
                    losses[(int) s.globalStep() - 1] = s.loss();
                }
            });
            TrainResult r = t.train();
            double first = mean(losses, 0, 10), last = mean(losses, losses.length - 10, losses.length);
            assertTrue(last < 0.8 * first, "mean loss of the first 10 steps " + first + ", of the last 10 " + last);
            assertTrue(r.history().get(1).trainLoss() < r.history().get(0).trainLoss(), r.history().toString());
            assertTrue(r.test().top1() > 0.3, "well above chance (10 %): " + r.test().top1());
        }
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += v[i];
        return s / (to - from);
    }
}
