package netslim.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.tensor.Tensor;
import netslim.testing.Close;

class SgdTest {
    @Test
    void weightDecaySkipsBatchNormAndBiasesByDefault() {
        Graph g = TinyModels.convNet(8, 3, 4, 0, 1);
        for (String name : g.params().names()) {
            if (ParamStore.isBuffer(name)) continue;
            boolean expected = name.equals("conv1.weight") || name.equals("conv2.weight") || name.equals("fc.weight");
            assertEquals(expected, Sgd.decays(g, name, false), name);
            assertTrue(Sgd.decays(g, name, true), name + " with --wd-all");
        }
    }

    /** With zero gradients and no momentum, one step is p ← p·(1 − lr·wd) for decayed parameters only. */
    @Test
    void oneStepWithZeroGradientsShrinksOnlyDecayedParameters() {
        Graph g = TinyModels.convNet(8, 3, 4, 0, 2);
        for (String n : g.params().names()) if (n.startsWith("bn") && !ParamStore.isBuffer(n)) g.params().get(n).fill(0.5f);
        Graph before = g.copy();
        TrainConfig c = TrainConfig.defaults(1).withMomentum(0, false).withWeightDecay(0.1, false);
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.TRAINING)) {
            Sgd sgd = new Sgd(ex, c);
            sgd.zeroGrads();
            sgd.step(0.5);
            assertTrue(sgd.velocities().isEmpty(), "no momentum, no velocity");
        }
        for (String n : sgd(g)) {
            Tensor was = before.params().get(n);
            Tensor expected = was.copy();
            if (Sgd.decays(g, n, false)) {
                for (int i = 0; i < expected.size(); i++) expected.set(i, was.get(i) - 0.5f * (0.1f * was.get(i)));
            }
            Close.assertClose(g.params().get(n), expected, 0, 0, n);
        }
    }

    private static Iterable<String> sgd(Graph g) {
        return g.params().names().stream().filter(n -> !ParamStore.isBuffer(n)).toList();
    }

    @Test
    void velocitiesRoundTripAndNonFiniteGradientsAreNamed() {
        Graph g = TinyModels.convNet(8, 3, 4, 0, 3);
        TrainConfig c = TrainConfig.defaults(1).withWeightDecay(0, false);
        try (Executor ex = new Executor(g, new ReferenceKernels(), 2, Executor.Mode.TRAINING)) {
            Sgd sgd = new Sgd(ex, c);
            sgd.zeroGrads();
            assertNull(sgd.firstNonFiniteGradient());
            g.params().grad("fc.weight").fill(1f);
            g.params().grad("bn2.bias").set(1, Float.NaN);
            assertEquals("bn2.bias", sgd.firstNonFiniteGradient());
            g.params().grad("bn2.bias").set(1, 0f);
            sgd.step(0.1);
            Map<String, Tensor> v = sgd.velocities();
            assertEquals(sgd.parameters().size(), v.size());
            assertFalse(v.containsKey("bn1.running_mean"));
            Close.assertClose(v.get("fc.weight").toArray(), ones(v.get("fc.weight").size()), 0, 0, "v = g on step 1");
            Sgd other = new Sgd(ex, c);
            other.loadVelocities(v, "test");
            Close.assertClose(other.velocities().get("fc.weight"), v.get("fc.weight"), 0, 0, "reloaded velocity");
        }
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, 1f);
        return a;
    }
}
