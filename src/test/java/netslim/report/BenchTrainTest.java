package netslim.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import netslim.train.TinyModels;

/** {@link Bench#train}: it really trains (PyTorch's SGD step), and its figures are sane. */
class BenchTrainTest {

    /**
     * One timed step and no warm-up: each trainable parameter must move by −lr·∇ (PyTorch's first SGD-momentum
     * step, whose velocity is the gradient itself) with the gradient of the mean cross-entropy on the bench's batch,
     * computed here by the reference kernels; BatchNorm running statistics must have been updated (TRAINING mode).
     */
    @Test
    void oneStepIsTorchsSgdStepOnTheBenchBatch() {
        Graph g = TinyModels.convNet(8, 4, 5, 0, 11);
        Graph before = g.copy();
        int batch = 3;
        try (Backend cpu = CpuBackend.createDefault()) {
            Bench.Result r = Bench.train("tiny", g, cpu, batch, 0, 1, m -> { });
            assertEquals(1, r.iters());
        }
        Graph ref = before.copy();
        Bench.LabeledBatch data = Bench.trainingBatch(ref, batch);
        ReferenceKernels k = new ReferenceKernels();
        try (Executor ex = new Executor(ref, k, batch, Executor.Mode.TRAINING)) {
            Tensor logits = ex.forward(data.x());
            Tensor probs = Tensor.zeros(logits.shape()), dlogits = Tensor.zeros(logits.shape());
            k.softmaxCrossEntropy(logits, data.labels(), 0f, probs);
            k.softmaxCrossEntropyBackward(probs, data.labels(), 0f, 1f, dlogits);
            ex.backward(dlogits);
        }
        float lr = (float) Bench.trainStepConfig(batch).lr();
        for (String name : g.params().names()) {
            Tensor was = before.params().get(name);
            if (ParamStore.isBuffer(name)) {
                if (name.endsWith("running_mean")) {
                    assertTrue(Close.relL2(g.params().get(name).toArray(), was.toArray()) > 0, name + " unchanged");
                }
                continue;
            }
            Tensor grad = ref.params().grad(name), expected = was.copy();
            for (int i = 0; i < expected.size(); i++) expected.set(i, was.get(i) - lr * grad.get(i));
            assertTrue(Close.relL2(g.params().get(name).toArray(), was.toArray()) > 1e-7, name + " did not move");
            Close.assertClose(g.params().get(name), expected, 1e-6, 1e-4, name);
        }
    }

    @Test
    void severalStepsGivePositiveFiguresAndMoveEveryParameter() {
        Graph g = TinyModels.convNet(8, 4, 5, 0.5f, 12);
        Graph before = g.copy();
        Bench.Result r;
        try (Backend cpu = CpuBackend.createDefault()) {
            r = Bench.train("tiny", g, cpu, 4, 2, 3, m -> { });
        }
        assertEquals(3, r.samplesMs().length);
        assertEquals(4, r.batch());
        assertTrue(r.p10Ms() > 0 && r.p10Ms() <= r.medianMs() && r.medianMs() <= r.p90Ms(), r.toString());
        assertEquals(4 * 1000.0 / r.medianMs(), r.imagesPerS(), 1e-9);
        for (String name : g.params().names()) {
            if (ParamStore.isBuffer(name)) continue;
            assertTrue(Close.relL2(g.params().get(name).toArray(), before.params().get(name).toArray()) > 1e-7,
                    name + " did not move after 5 steps");
        }
    }

    @Test
    void theBatchIsSeededAndItsLabelsAreClasses() {
        Graph g = TinyModels.convNet(8, 4, 5, 0, 13);
        Bench.LabeledBatch a = Bench.trainingBatch(g, 16), b = Bench.trainingBatch(g, 16);
        assertEquals(Shape.of(16, 1, 8, 8), a.x().shape());
        Close.assertClose(a.x(), b.x(), 0, 0, "same seed, same batch");
        for (int i = 0; i < 16; i++) {
            assertEquals(b.labels()[i], a.labels()[i]);
            assertTrue(a.labels()[i] >= 0 && a.labels()[i] < 5, "label " + a.labels()[i]);
        }
    }
}
