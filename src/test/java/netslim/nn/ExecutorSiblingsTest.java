package netslim.nn;

import static netslim.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import netslim.backend.Backend;
import netslim.backend.PoisoningBackend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.OpenBlasGemm;
import netslim.backend.cpu.SiblingPointwiseSwitch;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A training plan on the CPU runs sibling pointwise convs (an inception block's branch heads) as one
 * {@link Backend#conv2dSiblings} / {@link Backend#conv2dSiblingsBackward} call at the first member's place, against
 * the plan that runs them one by one at their own places (-Dnetslim.train.siblings=false), over two steps, plain and
 * behind the NaN-poisoning backend:
 * <ul>
 * <li>googlenet-cifar with the stacked product off: bit for bit (the members' backwards then add into dx in the
 * order the unmerged plan has) — the merge's placement in a real inception network;</li>
 * <li>a net of two sibling groups (one on the graph input, so no dx; biases) with the stacked OpenBLAS product: the
 * same to rounding. (Not googlenet-cifar: there the product's different rounding, ~1e-7, flips max-pool argmaxes and
 * ReLU masks downstream, which moves gradients by about 1 % relative — true of any change of summation order.)</li>
 * </ul>
 */
class ExecutorSiblingsTest {

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void googlenetCifarBitForBitWithTheMembersOneByOne(int batch) {
        boolean was = SiblingPointwiseSwitch.get();
        try {
            SiblingPointwiseSwitch.set(false);
            for (boolean poisoned : new boolean[] {false, true}) {
                Graph g = FusedInferenceTest.model("googlenet-cifar", Shape.of(1, 28, 28), 0.25);
                sameSteps(g, batch, poisoned, 9, true);
            }
        } finally {
            SiblingPointwiseSwitch.set(was);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 5})
    void stackedProductSameStepsToRounding(int batch) {
        for (boolean poisoned : new boolean[] {false, true}) sameSteps(twoGroups(), batch, poisoned, 2, false);
    }

    @Test
    void noGroupsWhenTurnedOff() {
        boolean was = Executor.TRAIN_SIBLINGS;
        try (CpuBackend cpu = CpuBackend.create(2, new OpenBlasGemm(2))) {
            Executor.TRAIN_SIBLINGS = false;
            try (Executor ex = Executor.forTraining(twoGroups(), cpu, 2)) {
                assertEquals(0, ex.siblingGroups());
            }
            Executor.TRAIN_SIBLINGS = true;
            try (Executor ex = Executor.forTraining(twoGroups(), cpu, 2);
                 Executor serving = Executor.forInference(twoGroups(), cpu, 2)) {
                assertEquals(2, ex.siblingGroups());
                assertEquals(0, serving.siblingGroups(), "serving plans merge siblings their own way");
            }
        } finally {
            Executor.TRAIN_SIBLINGS = was;
        }
    }

    /** input → {1x1 a, 1x1 b} → concat → 3x3 conv → BN → {1x1 c, 1x1 d, 1x1 e} → concat → pool → linear. */
    private static Graph twoGroups() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(3, 9, 9));
        String a = b.conv("a", b.input(), 3, 4, 1, 1, 0, true), bb = b.conv("b", b.input(), 3, 6, 1, 1, 0, true);
        String mid = b.bn("bn", b.conv("mid", b.concat("cat1", a, bb), 10, 8, 3, 1, 1, false), 8);
        String c = b.conv("c", mid, 8, 5, 1, 1, 0, false), d = b.conv("d", mid, 8, 7, 1, 1, 0, false);
        String e = b.conv("e", mid, 8, 3, 1, 1, 0, false);
        String fc = b.linear("fc", b.flatten("flat", b.globalAvgPool("gap", b.concat("cat2", c, d, e))), 15, 4, true);
        Graph g = b.build(fc);
        Rng rng = new Rng(7);
        for (String p : g.params().names()) {
            if (!p.endsWith("running_var")) rng.fillUniform(g.params().get(p), -0.5f, 0.5f);
        }
        return g;
    }

    private static void sameSteps(Graph g, int batch, boolean poisoned, int groups, boolean bits) {
        Graph r = g.copy();
        String what = "batch " + batch + (poisoned ? ", poisoned" : "");
        Backend cpu = CpuBackend.create(2, new OpenBlasGemm(2));
        Backend backend = poisoned ? new PoisoningBackend(cpu) : cpu;
        Tensor x = new Rng(batch).uniform(g.shapes(batch).get(g.inputName()));
        Shape out = g.shapes(batch).get(g.outputName());
        boolean was = Executor.TRAIN_SIBLINGS;
        try (backend; Executor merged = plan(g, backend, batch, true); Executor apart = plan(r, backend, batch, false)) {
            assertEquals(groups, merged.siblingGroups());
            assertEquals(0, apart.siblingGroups());
            for (int step = 0; step < 2; step++) {
                Tensor dy = new Rng(100 + step).uniform(out);
                float[] ym = merged.forwardToHost(x).toArray(), ya = apart.forwardToHost(x).toArray();
                g.params().zeroGrads();
                r.params().zeroGrads();
                merged.backward(dy);
                apart.backward(dy);
                String at = what + ", step " + step;
                if (bits) assertArrayEquals(ya, ym, "output, " + at);
                else assertClose(ym, ya, 1e-6, 1e-5, "output, " + at);
                for (String p : g.params().names()) {
                    if (ParamStore.isBuffer(p)) continue;
                    float[] gm = g.params().grad(p).toArray(), ga = r.params().grad(p).toArray();
                    if (bits) assertArrayEquals(ga, gm, "gradient of " + p + ", " + at);
                    else assertClose(gm, ga, 1e-5, 1e-4, "gradient of " + p + ", " + at);
                }
            }
        } finally {
            Executor.TRAIN_SIBLINGS = was;
        }
    }

    private static Executor plan(Graph g, Backend backend, int batch, boolean siblings) {
        Executor.TRAIN_SIBLINGS = siblings;
        return Executor.forTraining(g, backend, batch);
    }
}
