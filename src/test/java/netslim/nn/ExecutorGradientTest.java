package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import netslim.testing.GradCheck;

/**
 * The executor's training pass end to end: parameter gradients of a small graph with every structural feature
 * (fan-out into an Inception-style concat and a residual add, views, pools, BN in training mode) against central
 * finite differences of the whole forward pass.
 */
class ExecutorGradientTest {

    static Graph smallNet(long seed) {
        GraphBuilder b = new GraphBuilder("input", Shape.of(3, 8, 8));
        String x = b.conv("stem", b.input(), 3, 4, 3, 1, 1, true);
        x = b.bn("stem_bn", x, 4);
        String r = b.relu("stem_relu", x);
        String b1 = b.conv("branch1", r, 4, 3, 1, 1, 0, false);
        String p = b.maxPool("branch2_pool", r, 3, 1, 1, false);
        String b2 = b.conv("branch2", p, ConvSpec.of(4, 2, 3, 1, 1).withGroups(2), true);
        String cat = b.concat("cat", b1, b2);
        String mix = b.conv("mix", cat, 5, 4, 3, 1, 1, true);
        String res = b.sum("res", mix, r);
        String clip = b.add("clip", new Layer.Clip(0f, 6f), res);
        String pool = b.add("avg", new Layer.AvgPool2d(new PoolSpec(3, 3, 2, 2, 1, 1, true, false)), clip);
        String gap = b.globalAvgPool("gap", pool);
        String flat = b.flatten("flat", gap);
        String id = b.add("id", new Layer.Identity(), flat);
        String fc = b.linear("fc", id, 4, 3, true);
        Graph g = b.build(fc);
        Rng rng = new Rng(seed);
        for (String name : g.params().names()) {
            Tensor t = g.params().get(name);
            if (name.endsWith("running_var")) rng.fillUniform(t, 0.5f, 1.5f);
            else rng.fillUniform(t, -0.6f, 0.6f);
        }
        return g;
    }

    static Stream<Backend> backends() {
        return Stream.of(new ReferenceKernels(), CpuBackend.create(2, Gemm.select("java", 2)));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void parameterGradientsMatchFiniteDifferences(Backend backend) {
        Graph g = smallNet(11);
        Tensor x = new Rng(12).uniform(Shape.of(2, 3, 8, 8));
        Executor ex = new Executor(g, backend, 2, Executor.Mode.TRAINING);
        List<String> names = new ArrayList<>();
        for (String n : g.params().names()) if (!ParamStore.isBuffer(n)) names.add(n);
        GradCheck check = GradCheck.of("executor on " + backend.name(),
                () -> ex.forward(x).copy(),
                (dy, grads) -> {
                    g.params().zeroGrads();
                    ex.backward(dy);
                    for (int i = 0; i < grads.length; i++) {
                        Tensor pg = g.params().grad(names.get(i));
                        for (int j = 0; j < pg.size(); j++) grads[i].set(j, grads[i].get(j) + pg.get(j));
                    }
                });
        for (String n : names) check.input(n, g.params().get(n));
        // Whole-network FD: a step of 1e-3 keeps ReLU/clip/max kinks rarely crossed; float32 forward noise over a
        // difference of 2e-3 limits accuracy to ~1e-3 relative, hence the tolerances.
        check.step(1e-3).tolerance(2e-3, 2e-2).maxSamples(12).run(13);
    }

    /**
     * backward zeroes only the gradients that several contributions add into; the others (a conv's output read by
     * its BatchNorm alone, a BatchNorm's read by its ReLU alone, a branch's end read by its concat alone, a conv's
     * input read by that conv alone, the graph's output) are written whole by their one contribution. Which ones
     * those are, and that a second backward on the same buffers (still holding the first one's values; NaN-poisoned
     * before each overwrite on the poisoning backend) gives the reference's gradients.
     */
    @ParameterizedTest
    @MethodSource("overwritingBackends")
    void gradientsWrittenWholeNeedNoZeroingAndRepeatedBackwardAgrees(Backend backend) {
        Graph g = smallNet(21), r = g.copy();
        Tensor x = new Rng(22).uniform(Shape.of(2, 3, 8, 8)), dy = new Rng(23).uniform(Shape.of(2, 3));
        try (Executor ex = new Executor(g, backend, 2, Executor.Mode.TRAINING);
             Executor ref = new Executor(r, new ReferenceKernels(), 2, Executor.Mode.TRAINING)) {
            // host backends: branch2_pool and cat too, each read by one conv alone (conv2dBackwardInto)
            assertEquals(java.util.Set.of("stem", "stem_bn", "branch1", "branch2", "fc", "branch2_pool", "cat"),
                    ex.gradsWrittenOnce());
            ref.forward(x);
            r.params().zeroGrads();
            ref.backward(dy);
            ex.forward(x);
            for (int pass = 0; pass < 2; pass++) {
                g.params().zeroGrads();
                ex.backward(dy);
                for (String n : g.params().names()) {
                    if (ParamStore.isBuffer(n)) continue;
                    Close.assertClose(g.params().grad(n), r.params().grad(n), 1e-5, 1e-4,
                            n + " gradient, backward " + (pass + 1) + " on " + backend);
                }
            }
        }
    }

    static Stream<Backend> overwritingBackends() {
        return Stream.of(new ReferenceKernels(), CpuBackend.create(2, Gemm.select("java", 2)),
                new netslim.backend.PoisoningBackend(CpuBackend.create(2, Gemm.select("java", 2))));
    }

    @Test
    void forwardAgreesAcrossBackendsAndBatchStatisticsAreUsedInTraining() {
        Graph g = smallNet(5);
        Tensor x = new Rng(6).uniform(Shape.of(3, 3, 8, 8));
        Tensor ref, cpu, eval;
        try (Executor a = new Executor(g.copy(), new ReferenceKernels(), 3, Executor.Mode.TRAINING);
             Executor b = new Executor(g.copy(), CpuBackend.create(2, Gemm.select("java", 2)), 3, Executor.Mode.TRAINING);
             Executor c = new Executor(g.copy(), new ReferenceKernels(), 3, Executor.Mode.INFERENCE)) {
            ref = a.forwardToHost(x);
            cpu = b.forwardToHost(x);
            eval = c.forwardToHost(x);
        }
        Close.assertClose(cpu, ref, 1e-5, 1e-4, "training forward, cpu vs reference");
        assertNotEquals(ref.get(0), eval.get(0), "training mode must normalise with batch statistics");
    }

    @Test
    void runningStatisticsUpdateOnlyInTraining() {
        Graph g = smallNet(7);
        Tensor before = g.params().get("stem_bn.running_mean").copy();
        Tensor x = new Rng(8).uniform(Shape.of(2, 3, 8, 8));
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.INFERENCE)) {
            ex.forward(x);
        }
        Close.assertClose(g.params().get("stem_bn.running_mean"), before, 0, 0, "inference leaves running mean");
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.TRAINING)) {
            ex.forward(x);
        }
        assertNotEquals(before.get(0), g.params().get("stem_bn.running_mean").get(0));
    }

    @Test
    void wrongInputShapeIsAClearError() {
        Graph g = smallNet(1);
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.INFERENCE)) {
            NetslimException e = assertThrows(NetslimException.class, () -> ex.forward(Tensor.zeros(2, 3, 9, 8)));
            assertEquals("input has shape 2x3x9x8, the model expects 2x3x8x8", e.getMessage());
        }
    }

    @Test
    void backwardNeedsTrainingMode() {
        Graph g = smallNet(1);
        try (Executor ex = new Executor(g, new ReferenceKernels(), 1, Executor.Mode.INFERENCE)) {
            assertThrows(IllegalStateException.class, () -> ex.backward(Tensor.zeros(1, 3)));
        }
    }
}
