package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * The serving plan ({@link Executor#forInference}: BatchNorm folded, conv+ReLU fused) computes the same function as
 * the plain inference plan on the reference kernels, for every zoo model, on the CPU backend (fused epilogue) and on
 * the reference kernels (the Backend default: conv then ReLU). BatchNorm statistics are randomised so the folding
 * does real work.
 */
class FusedInferenceTest {

    static Stream<Arguments> models() {
        // Batch 1 as well for the Inception models: there the serving plan writes concat inputs in place.
        return Stream.of(
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), 0.25, 2),
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), 0.25, 1),
                Arguments.of("resnet20-cifar", Shape.of(1, 28, 28), 1.0, 2),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28), 1.0, 2),
                Arguments.of("resnet18", Shape.of(3, 64, 64), 1.0, 2),
                Arguments.of("googlenet", Shape.of(3, 64, 64), 1.0, 2),
                Arguments.of("googlenet", Shape.of(3, 64, 64), 1.0, 1));
    }

    /** A zoo model with non-trivial BatchNorm statistics and affine parameters. */
    static Graph model(String name, Shape input, double width) {
        Graph g = Zoo.create(name, new Zoo.Options(0, input, width, 7));
        Rng rng = new Rng(11);
        for (Node n : g.nodes()) {
            if (!(n.layer() instanceof Layer.BatchNorm2d)) continue;
            rng.fillUniform(g.params().get(n.name() + ".running_mean"), -0.3f, 0.3f);
            rng.fillUniform(g.params().get(n.name() + ".running_var"), 0.5f, 1.5f);
            rng.fillUniform(g.params().get(n.name() + ".weight"), 0.5f, 1.5f);
            rng.fillUniform(g.params().get(n.name() + ".bias"), -0.3f, 0.3f);
        }
        return g;
    }

    private static Tensor plain(Graph g, Tensor x) {
        try (Executor ex = new Executor(g, ReferenceKernels.create(), x.shape().n(), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    private static Tensor fused(Graph g, Backend b, Tensor x) {
        try (Executor ex = Executor.forInference(g, b, x.shape().n())) {
            return ex.forwardToHost(x);
        }
    }

    @ParameterizedTest(name = "{0} {1} batch {3}")
    @MethodSource("models")
    void servingPlanMatchesThePlainPlan(String name, Shape input, double width, int batch) {
        Graph g = model(name, input, width);
        Tensor x = new Rng(5).uniform(Shape.of(batch, input.dim(0), input.dim(1), input.dim(2)));
        Tensor want = plain(g, x);
        for (String gemm : new String[] {"java", "openblas"}) { // the two Winograd product paths among others
            try (CpuBackend cpu = CpuBackend.create(2, Gemm.select(gemm, 2))) {
                Close.assertClose(fused(g, cpu, x), want, 1e-4, 1e-3,
                        name + ": cpu (" + gemm + ") serving plan vs reference plain plan");
            }
        }
        Close.assertClose(fused(g, ReferenceKernels.create(), x), want, 1e-4, 1e-3,
                name + ": reference serving plan vs reference plain plan");
    }

    /**
     * At batch > 1 an Inception's sibling 1x1s run as one product writing each member's tensor where the CPU backend
     * has that path (the 8 x 32 tile: googlenet's 9 groups of 3, every count a multiple of 8), else one by one; the
     * whole-batch plan (image-by-image serving ruled out) matches the reference either way.
     */
    @Test
    void siblingPointwiseConvsRunAsOneProductAtBatchThree() {
        Graph g = model("googlenet", Shape.of(3, 64, 64), 1.0);
        Tensor x = new Rng(8).uniform(Shape.of(3, 3, 64, 64));
        Tensor want = plain(g, x);
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("auto", 2));
             Executor ex = Executor.forInferenceWholeBatch(g, cpu, 3)) {
            assertEquals(CpuBackend.autoJavaProducts() ? 9 : 0, ex.mergedGroups(), "merged sibling groups");
            Close.assertClose(ex.forwardToHost(x), want, 1e-4, 1e-3, "googlenet batch 3, merged siblings");
        }
        try (Executor ex = Executor.forInferenceWholeBatch(g, ReferenceKernels.create(), 3)) {
            assertEquals(0, ex.mergedGroups(), "the reference kernels have no split product");
        }
    }

    /**
     * With {@code -Dnetslim.winograd=on} every 3x3 stride-1 conv takes the Winograd path, including the 7x7 and 4x4
     * maps and batch 1 that the automatic rule leaves to im2col: the serving plan still matches the reference.
     */
    @ParameterizedTest(name = "{0} batch {1} gemm {2} tile {3}")
    @MethodSource("winogradCases")
    void servingPlanWithWinogradOnEveryEligibleConv(String name, int batch, String gemm, String tile) {
        Shape input = name.equals("googlenet") ? Shape.of(3, 64, 64) : Shape.of(1, 28, 28);
        Graph g = model(name, input, name.equals("googlenet") ? 1.0 : 0.25);
        Tensor x = new Rng(6).uniform(Shape.of(batch, input.dim(0), input.dim(1), input.dim(2)));
        Tensor want = plain(g, x);
        netslim.testing.SystemProperties.with(java.util.Map.of("netslim.winograd", "on", "netslim.winograd.tile", tile),
                () -> {
                    try (CpuBackend cpu = CpuBackend.create(2, Gemm.select(gemm, 2))) {
                        Close.assertClose(fused(g, cpu, x), want, 1e-4, 1e-3,
                                name + ": Winograd serving plan vs reference");
                    }
                });
    }

    /** tile "4" forces F(4x4, 3x3) on every eligible conv, "auto" leaves the choice to the rule. */
    static Stream<Arguments> winogradCases() {
        return Stream.of(Arguments.of("googlenet", 1, "openblas", "auto"), Arguments.of("googlenet", 2, "java", "auto"),
                Arguments.of("googlenet-cifar", 1, "java", "auto"), Arguments.of("googlenet-cifar", 3, "openblas", "auto"),
                Arguments.of("googlenet", 1, "openblas", "4"), Arguments.of("googlenet", 2, "java", "4"),
                Arguments.of("googlenet-cifar", 3, "openblas", "4"));
    }

    @Test
    void fusedConvOutputIsNotKeptAndSaysSo() {
        Graph g = model("vgg11-cifar", Shape.of(1, 28, 28), 1.0);
        Graph folded = BatchNormFolding.fold(g).graph();
        Node conv = folded.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d).findFirst().orElseThrow();
        Node relu = folded.consumers(conv.name()).get(0);
        assertTrue(relu.layer() instanceof Layer.Relu, "vgg11-cifar: conv → BN → ReLU becomes conv → ReLU");
        try (Executor ex = Executor.forInference(g, ReferenceKernels.create(), 1)) {
            ex.forward(new Rng(1).uniform(Shape.of(1, 1, 28, 28)));
            NetslimException e = assertThrows(NetslimException.class, () -> ex.activation(conv.name()));
            assertEquals("node " + conv.name() + " is fused with " + relu.name() + " in this inference plan: its own "
                    + "output is not kept (use Mode.INFERENCE to read it)", e.getMessage());
            // the ReLU's buffer held the fused result during the pass; later layers reuse its array
            NetslimException reused = assertThrows(NetslimException.class, () -> ex.activation(relu.name()));
            assertEquals("node " + relu.name() + "'s buffer is reused by later layers in this serving plan: its output"
                    + " is not kept (use Mode.INFERENCE to read it)", reused.getMessage());
        }
    }
}
