package netslim.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import netslim.backend.cpu.ReferenceKernels;
import netslim.data.Batch;
import netslim.data.Epoch;
import netslim.data.Loader;
import netslim.data.LoaderOptions;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;

/** BatchNorm re-estimation: the first BatchNorm's statistics against the conv output it normalises. */
class BatchNormCalibrationTest {

    @Test
    void firstBatchNormGetsTheAverageOfItsBatchStatistics() {
        Graph g = TinyModels.convNet(12, 6, 10, 0.3f, 81);
        SyntheticData data = new SyntheticData("cal", 70, 12, 10, 82);
        g.params().get("bn1.running_mean").fill(5f); // stale statistics, as after pruning
        g.params().get("bn1.running_var").fill(100f);
        g.params().get("bn2.running_mean").fill(5f);
        Graph before = g.copy();

        int used = BatchNormCalibration.recalibrate(g, new ReferenceKernels(), data, 16, 64);
        assertEquals(64, used, "four full batches of 16");

        // Reference: conv1's output (it feeds bn1 directly) on the same four batches, per-batch mean and unbiased
        // variance per channel, averaged over the batches.
        double[] mean = new double[6], var = new double[6];
        LoaderOptions o = LoaderOptions.evaluation(data, 16).withDropLast(true);
        try (Loader loader = new Loader(data, o); Epoch epoch = loader.epoch(0);
             Executor ex = new Executor(before, new ReferenceKernels(), 16, Executor.Mode.INFERENCE)) {
            for (int k = 0; k < 4; k++) {
                Batch b = epoch.next();
                ex.forward(b.x());
                Tensor z = ex.activation("conv1"); // (16, 6, 12, 12)
                int n = 16 * 12 * 12;
                for (int c = 0; c < 6; c++) {
                    double s = 0, s2 = 0;
                    for (int i = 0; i < 16; i++) {
                        for (int p = 0; p < 144; p++) {
                            double v = z.get((i * 6 + c) * 144 + p);
                            s += v;
                            s2 += v * v;
                        }
                    }
                    double m = s / n;
                    mean[c] += m / 4;
                    var[c] += (s2 / n - m * m) * n / (n - 1) / 4;
                }
            }
        }
        Close.assertClose(g.params().get("bn1.running_mean").toArray(), toFloat(mean), 1e-5, 1e-4, "bn1 mean");
        Close.assertClose(g.params().get("bn1.running_var").toArray(), toFloat(var), 1e-5, 1e-4, "bn1 var");
        for (float v : g.params().get("bn2.running_mean").toArray()) assertTrue(Float.isFinite(v) && v != 5f, "bn2 " + v);
        // Nothing else changed: weights, and the graph's own BatchNorm momentum.
        Close.assertClose(g.params().get("conv2.weight"), before.params().get("conv2.weight"), 0, 0, "conv2 weight");
        assertEquals(before.node("bn1").layer(), g.node("bn1").layer());
        assertEquals(0.1f, ((Layer.BatchNorm2d) g.node("bn2").layer()).momentum(), 1e-7f);
    }

    @Test
    void onlyFullBatchesCount() {
        Graph g = TinyModels.convNet(12, 4, 10, 0f, 83);
        SyntheticData data = new SyntheticData("cal", 40, 12, 10, 84);
        assertEquals(32, BatchNormCalibration.recalibrate(g, new ReferenceKernels(), data, 16, 1000));
        assertEquals(0, BatchNormCalibration.recalibrate(g, new ReferenceKernels(), data, 16, 15));
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
