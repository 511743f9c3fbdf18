package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.decompose.RankPolicy;
import netslim.decompose.TuckerDecomposer;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Whole-model parity on the GPU (issue 5): zoo models on CUDA against the CPU backend, inference in FP32
 * (relative L2 error of the logits ≤ 1e-5) and TF32 (≤ 1e-2: TF32 rounds GEMM inputs to a 10-bit mantissa,
 * ~5e-4 per product, compounded over ~60 layers), and one SGD training step (weights after the step ≤ 1e-4).
 * Tagged gpu; skipped only when no CUDA device works.
 */
@Tag("gpu")
class CudaModelParityTest {
    private static Backend cpu;

    @BeforeAll
    static void needsDevice() {
        Assumptions.assumeTrue(CudaBackend.probe().available(), () -> "no CUDA device: " + CudaBackend.probe().reason());
        cpu = CpuBackend.create(Runtime.getRuntime().availableProcessors(), netslim.backend.cpu.Gemm.select("auto",
                Runtime.getRuntime().availableProcessors()));
    }

    @AfterAll
    static void closeCpu() {
        if (cpu != null) cpu.close();
    }

    private static Graph model(String name) {
        Graph g = Zoo.create(name, new Zoo.Options(0, null, 1.0, 7));
        // Seeded, non-trivial BN statistics so eval-mode BN is not the identity.
        Rng rng = new Rng(11);
        for (String p : g.params().names()) {
            if (p.endsWith("running_var")) rng.fillUniform(g.params().get(p), 0.5f, 1.5f);
            if (p.endsWith("running_mean")) rng.fillUniform(g.params().get(p), -0.1f, 0.1f);
        }
        return g;
    }

    private static Tensor batch(Graph g, int n) {
        Shape in = g.inputShape();
        return new Rng(5).uniform(Shape.of(n, in.dim(0), in.dim(1), in.dim(2)));
    }

    private static float[] infer(Graph g, Backend b, Tensor x) {
        try (Executor ex = new Executor(g, b, x.shape().n(), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x).toArray();
        }
    }

    /** A zoo model, or with "tucker:" every non-1x1 conv Tucker-2 decomposed (EVBMF ranks, 2 HOOI sweeps). */
    private static Graph graphFor(String name) {
        if (!name.startsWith("tucker:")) return model(name);
        return new TuckerDecomposer(new TuckerDecomposer.Options(RankPolicy.parse("evbmf"), 2, null, false))
                .decompose(model(name.substring("tucker:".length()))).graph();
    }

    @ParameterizedTest(name = "{0} batch {1} tf32={2}")
    @CsvSource({"googlenet, 2, false, 1e-5", "googlenet, 2, true, 1e-2",
            "googlenet-cifar, 8, false, 1e-5", "googlenet-cifar, 8, true, 1e-2",
            "tucker:googlenet-cifar, 8, false, 1e-5", "tucker:googlenet-cifar, 8, true, 1e-2"})
    void inferenceMatchesCpu(String name, int n, boolean tf32, double maxRel) {
        Graph g = graphFor(name);
        Tensor x = batch(g, n);
        float[] expected = infer(g, cpu, x);
        float[] actual;
        try (Backend gpu = CudaBackend.create(tf32)) {
            actual = infer(g, gpu, x);
            // Replaying the same executor twice must give the same answer (no state leaks between runs).
            float[] again = infer(g, gpu, x);
            Close.assertClose(again, actual, 0, 0, name + " rerun on " + gpu);
        }
        double rel = Close.relL2(actual, expected);
        System.out.printf("%s batch %d tf32=%s: rel L2 %.3g%n", name, n, tf32, rel);
        assertTrue(rel <= maxRel, name + ": relative L2 error " + rel + " > " + maxRel);
    }

    /**
     * The serving plan (BN folded, conv+bias+ReLU fused) replayed as a CUDA graph equals the CPU's serving plan, on
     * every replay, with a new input each time (the graph reads the input buffer, it did not bake in the first one).
     */
    @ParameterizedTest(name = "{0} batch {1}")
    @CsvSource({"googlenet, 1", "googlenet, 4", "tucker:googlenet-cifar, 8"})
    void servingPlanGraphMatchesCpu(String name, int n) {
        Graph g = graphFor(name);
        try (Backend gpu = CudaBackend.create(false);
             Executor cpuEx = Executor.forInference(g, cpu, n);
             Executor gpuEx = Executor.forInference(g, gpu, n)) {
            for (int round = 0; round < 3; round++) {
                Tensor x = new Rng(100 + round).uniform(batch(g, n).shape());
                float[] expected = cpuEx.forwardToHost(x).toArray();
                float[] actual = gpuEx.forwardToHost(x).toArray();
                assertTrue(gpuEx.replaysGraph(), "the CUDA serving plan should replay a captured graph");
                double rel = Close.relL2(actual, expected);
                System.out.printf("%s batch %d serving plan, CUDA graph, round %d: rel L2 %.3g%n", name, n, round, rel);
                assertTrue(rel <= 1e-5, name + " round " + round + ": relative L2 error " + rel + " > 1e-5");
            }
        }
    }

    /**
     * A graph captured by one executor keeps working after another executor on the same backend grew the shared
     * im2col scratch (the trainer's evaluation executor beside its training executor): the old buffer must not be
     * freed while the graph lives (DeviceScratch). Added after the H100 runs of 2026-11-26; not yet run on a GPU.
     */
    @Test
    void graphSurvivesScratchGrowth() {
        Graph g = model("googlenet-cifar");
        try (Backend gpu = CudaBackend.create(false);
             Executor small = Executor.forInference(g, gpu, 1);
             Executor cpuSmall = Executor.forInference(g, cpu, 1)) {
            Tensor x1 = new Rng(21).uniform(batch(g, 1).shape());
            small.forwardToHost(x1); // eager pass + capture, scratch sized for batch 1
            assertTrue(small.replaysGraph());
            try (Executor big = Executor.forInference(g, gpu, 16)) {
                big.forwardToHost(new Rng(22).uniform(batch(g, 16).shape())); // grows the im2col scratch
            }
            Tensor x2 = new Rng(23).uniform(batch(g, 1).shape());
            double rel = Close.relL2(small.forwardToHost(x2).toArray(), cpuSmall.forwardToHost(x2).toArray());
            System.out.printf("graph replay after scratch growth: rel L2 %.3g%n", rel);
            assertTrue(rel <= 1e-5, "replay after another executor grew the scratch: relative L2 error " + rel);
        }
    }

    /** bench --layers on the GPU: CUDA events between the ops give one positive time per node that launches work. */
    @Test
    void eventTimingCoversEveryNode() {
        Graph g = model("googlenet-cifar");
        try (Backend gpu = CudaBackend.create(false)) {
            java.util.List<netslim.report.Bench.LayerTime> times = netslim.report.Bench.layers(g, gpu, 4, 1, 3);
            double sum = times.stream().mapToDouble(netslim.report.Bench.LayerTime::medianMs).sum();
            long convs = times.stream().filter(t -> t.kind().equals("Conv2d") && t.medianMs() > 0).count();
            System.out.printf("googlenet-cifar batch 4: %d layers, sum of medians %.3f ms, slowest %s %.3f ms%n",
                    times.size(), sum, times.get(0).name(), times.get(0).medianMs());
            assertTrue(convs > 50, "every conv should take measurable device time, got " + convs);
            assertTrue(sum > 0.05 && sum < 1000, "summed layer time " + sum + " ms is implausible");
        }
    }

    /** One training step (forward, softmax-CE, backward, SGD with momentum) on b; returns the graph's new params. */
    private static Map<String, float[]> trainStep(Graph g, Backend b, Tensor x, int[] labels) {
        try (Executor ex = new Executor(g, b, x.shape().n(), Executor.Mode.TRAINING)) {
            Tensor logits = ex.forward(x);
            Tensor probs = b.allocate(logits.shape()), dlogits = b.allocate(logits.shape());
            b.softmaxCrossEntropy(logits, labels, 0.1f, probs);
            b.softmaxCrossEntropyBackward(probs, labels, 0.1f, 1f, dlogits);
            ex.backward(dlogits);
            for (String p : g.params().names()) {
                if (ParamStore.isBuffer(p)) continue;
                Tensor v = b.allocate(g.params().get(p).shape());
                b.sgdStep(ex.param(p), ex.paramGrad(p), v, 0.05f, 0.9f, 5e-4f, false);
            }
            ex.syncParamsToHost();
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String p : g.params().names()) out.put(p, g.params().get(p).toArray());
        return out;
    }

    @Test
    void oneSgdStepMatchesCpu() {
        Graph base = model("googlenet-cifar");
        Tensor x = batch(base, 8);
        int[] labels = {3, 1, 4, 1, 5, 9, 2, 6};
        Map<String, float[]> before = new LinkedHashMap<>();
        for (String p : base.params().names()) before.put(p, base.params().get(p).toArray());
        Map<String, float[]> expected = trainStep(base.copy(), cpu, x, labels);
        Map<String, float[]> actual;
        try (Backend gpu = CudaBackend.create(false)) {
            actual = trainStep(base.copy(), gpu, x, labels);
        }
        // Tolerances from a measured floor, not a wish. This step is ill-conditioned in float: ~20 training-mode
        // BatchNorms at batch 8 each subtract the projections of dy onto 1 and x̂, so rounding noise grows through
        // the backward pass (linear.weight's update agrees to 7e-6, pre_layers.0.weight's only to 4e-3..9e-3).
        // Measured on the CPU (2026-11-26): two correct backends (OpenBLAS 2 threads vs Java GEMM 1 thread) differ,
        // over all parameters, by 1.5e-4 in the weights after the step and 7.1e-3 in the update (p_after − p_before);
        // per parameter up to 1.2e-2 in the update (a BN bias); CpuBackend vs the double-accumulating ReferenceKernels:
        // 2.2e-4 in pre_layers.0.weight, 1.9e-2 per-parameter update. The 1e-4 on the weights is below that
        // floor even between CPU backends. A wrong gradient anywhere gives an O(1) update error.
        double diffErr = 0, weightNorm = 0, updateNorm = 0, worst = 0; // diff = after(CUDA) − after(CPU)
        String worstName = "";
        for (String p : expected.keySet()) {
            if (ParamStore.isBuffer(p)) continue;
            float[] b0 = before.get(p), a = actual.get(p), e = expected.get(p);
            double pe = 0, pn = 0;
            for (int i = 0; i < b0.length; i++) {
                double d = (double) a[i] - e[i], u = (double) e[i] - b0[i];
                pe += d * d;
                pn += u * u;
                weightNorm += (double) e[i] * e[i];
            }
            diffErr += pe;
            updateNorm += pn;
            double rel = pn == 0 ? (pe == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(pe / pn);
            if (rel > worst) {
                worst = rel;
                worstName = p;
            }
        }
        // (a − b0) − (e − b0) = a − e: the same difference measured against the weights and against the update
        double relWeights = Math.sqrt(diffErr / weightNorm), relUpdate = Math.sqrt(diffErr / updateNorm);
        System.out.printf("one SGD step, CUDA vs CPU: weights rel L2 %.3g, update rel L2 %.3g, worst parameter %s"
                + " (update rel L2 %.3g)%n", relWeights, relUpdate, worstName, worst);
        assertTrue(relWeights <= 1e-3, "weights after one step differ by relative L2 " + relWeights);
        assertTrue(relUpdate <= 3e-2, "the updates differ by relative L2 " + relUpdate);
        assertTrue(worst <= 1e-1, worstName + ": its update differs by relative L2 " + worst);
    }
}
