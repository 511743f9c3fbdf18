package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.backend.ConvSpec;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** BatchNorm folding keeps the function, folds only conv → BN pairs whose conv output nothing else reads. */
class BatchNormFoldingTest {

    private static Tensor run(Graph g, Tensor x) {
        try (Executor ex = new Executor(g, ReferenceKernels.create(), x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    /** conv_a (no bias) → bn_a; conv_b (bias, grouped) → bn_b with a second reader; bn_c is the graph output. */
    private static Graph model() {
        GraphBuilder b = new GraphBuilder("x", Shape.of(4, 5, 5));
        String a = b.bn("bn_a", b.conv("conv_a", b.input(), ConvSpec.of(4, 6, 3, 1, 1), false), 6);
        String convB = b.conv("conv_b", b.relu("relu", a), new ConvSpec(6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 3), true);
        String sum = b.sum("sum", b.bn("bn_b", convB, 6), convB);
        String out = b.bn("bn_c", b.conv("conv_c", sum, ConvSpec.of(6, 4, 1, 1, 0), true), 4);
        Graph g = b.build(out);
        Rng rng = new Rng(21);
        g.params().values().forEach((name, t) -> {
            if (name.endsWith("running_var") || name.startsWith("bn") && name.endsWith(".weight")) {
                rng.fillUniform(t, 0.5f, 1.5f);
            } else {
                rng.fillUniform(t, -0.5f, 0.5f);
            }
        });
        return g;
    }

    @Test
    void foldsEligiblePairsAndKeepsTheFunction() {
        Graph g = model();
        BatchNormFolding.Result r = BatchNormFolding.fold(g);
        assertEquals(Map.of("conv_a", "bn_a", "conv_c", "bn_c"), r.folded());
        Graph f = r.graph();
        assertEquals(List.of("conv_a", "relu", "conv_b", "bn_b", "sum", "conv_c"), f.nodes().stream().map(Node::name).toList());
        assertEquals("conv_c", f.outputName(), "the folded BN was the output: its conv is now");
        assertEquals(List.of("conv_a"), f.node("relu").inputs());
        assertTrue(((Layer.Conv2d) f.node("conv_a").layer()).bias(), "a folded conv always has a bias");
        assertFalse(f.params().contains("bn_a.running_mean"));
        f.validateParams();
        Tensor x = new Rng(3).uniform(Shape.of(2, 4, 5, 5));
        Close.assertClose(run(f, x), run(g, x), 1e-6, 1e-5, "folded vs original");
    }

    @Test
    void leavesTheInputGraphUnchanged() {
        Graph g = model();
        float w0 = g.params().get("conv_a.weight").get(0);
        int nodes = g.nodes().size();
        BatchNormFolding.fold(g);
        assertEquals(w0, g.params().get("conv_a.weight").get(0));
        assertEquals(nodes, g.nodes().size());
        assertTrue(g.params().contains("bn_a.running_var"));
    }
}
