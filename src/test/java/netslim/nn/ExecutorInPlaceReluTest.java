package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.PoisoningBackend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training step's plan ({@link Executor#forTraining}) runs each ReLU that alone reads a BatchNorm's output in
 * place on that output and its gradient: the same output and the same bits in every parameter gradient as the plan
 * that keeps every buffer, over two steps (the second on buffers holding the first's values), on the CPU and on the
 * CPU behind the NaN-poisoning backend, with the ReLU's backward inside its BatchNorm's
 * ({@link netslim.backend.Backend#batchNormReluBackwardInto}) and as its own op; the BatchNorm's own output is refused.
 */
class ExecutorInPlaceReluTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("small net", 2),
                Arguments.of("googlenet-cifar", 2),
                Arguments.of("resnet20-cifar", 3));
    }

    private static Graph model(String name) {
        return name.equals("small net") ? ExecutorGradientTest.smallNet(31)
                : FusedInferenceTest.model(name, Shape.of(1, 28, 28), name.startsWith("googlenet") ? 0.25 : 1.0);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void inPlaceRelusGiveTheSameBits(String name, int batch) {
        boolean was = Executor.FUSED_BN_RELU_BACKWARD;
        try {
            for (boolean fused : new boolean[] {true, false}) {
                Executor.FUSED_BN_RELU_BACKWARD = fused; // the ReLU's backward in its BatchNorm's, or its own op
                inPlaceRelusGiveTheSameBits(name, batch, fused);
            }
        } finally {
            Executor.FUSED_BN_RELU_BACKWARD = was;
        }
    }

    private static void inPlaceRelusGiveTheSameBits(String name, int batch, boolean fusedBackward) {
        for (boolean poisoned : new boolean[] {false, true}) {
            Graph g = model(name), r = g.copy();
            Backend cpu = CpuBackend.create(2, Gemm.select("java", 2));
            Backend backend = poisoned ? new PoisoningBackend(cpu) : cpu;
            Tensor x = new Rng(batch).uniform(g.shapes(batch).get(g.inputName()));
            Shape out = g.shapes(batch).get(g.outputName());
            try (backend; Executor lean = Executor.forTraining(g, backend, batch);
                 Executor full = new Executor(r, backend, batch, Executor.Mode.TRAINING)) {
                assertTrue(lean.inPlaceRelus() > 0, name + ": no ReLU in place");
                assertEquals(0, full.inPlaceRelus());
                // googlenet-cifar: every branch end of its nine inception blocks writes into its concat's buffer
                assertEquals(name.startsWith("googlenet") && Executor.TRAIN_CONCAT_SLICES ? 36 : 0,
                        lean.concatSlices(), name + ": BatchNorms writing into concats");
                assertEquals(0, full.concatSlices());
                for (int step = 0; step < 2; step++) {
                    Tensor dy = new Rng(100 + step).uniform(out);
                    float[] yl = lean.forwardToHost(x).toArray(), yf = full.forwardToHost(x).toArray();
                    assertArrayEquals(yf, yl, name + " output, step " + step);
                    g.params().zeroGrads();
                    r.params().zeroGrads();
                    lean.backward(dy);
                    full.backward(dy);
                    for (String p : g.params().names()) {
                        if (ParamStore.isBuffer(p)) continue;
                        assertArrayEquals(r.params().grad(p).toArray(), g.params().grad(p).toArray(),
                                name + " gradient of " + p + ", step " + step + (poisoned ? ", poisoned" : "")
                                        + (fusedBackward ? "" : ", ReLU backward on its own"));
                    }
                    for (String p : g.params().names()) { // running statistics too
                        if (ParamStore.isBuffer(p)) {
                            assertArrayEquals(r.params().get(p).toArray(), g.params().get(p).toArray(), name + " " + p);
                        }
                    }
                }
            }
        }
    }

    /**
     * With -Dnetslim.train.concatSlices=false the branch ends keep their own buffers and the concats copy (same bits,
     * the test above); with it on, a branch end's output and gradient are refused by name (they live in the concat's).
     */
    @Test
    void concatSlicesCanBeTurnedOffAndTheirBuffersAreRefused() {
        boolean was = Executor.TRAIN_CONCAT_SLICES;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            Graph g = model("googlenet-cifar");
            Executor.TRAIN_CONCAT_SLICES = false;
            try (Executor off = Executor.forTraining(g, cpu, 2)) {
                assertEquals(0, off.concatSlices());
                Executor.TRAIN_CONCAT_SLICES = true;
                try (Executor on = Executor.forTraining(g.copy(), cpu, 2)) {
                    assertEquals(36, on.concatSlices());
                    Tensor x = new Rng(3).uniform(g.shapes(2).get(g.inputName()));
                    assertArrayEquals(off.forwardToHost(x).toArray(), on.forwardToHost(x).toArray());
                    String end = g.consumers("a3.b1.1").get(0).name(); // the branch's ReLU, read by the concat
                    NetslimException a = assertThrows(NetslimException.class, () -> on.activation(end));
                    assertTrue(a.getMessage().contains(end) && a.getMessage().contains("concat"), a.getMessage());
                    NetslimException d = assertThrows(NetslimException.class, () -> on.activationGrad(end));
                    assertTrue(d.getMessage().contains(end) && d.getMessage().contains("concat"), d.getMessage());
                    assertEquals(off.activation(end).shape(), g.shapes(2).get(end));
                }
            }
        } finally {
            Executor.TRAIN_CONCAT_SLICES = was;
        }
    }

    /** A BatchNorm whose output a residual sum reads besides its ReLU: overwriting it would change the sum. */
    @Test
    void aBatchNormReadByMoreThanItsReluKeepsItsBuffer() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(2, 6, 6));
        String c = b.conv("conv", b.input(), 2, 4, 3, 1, 1, false);
        String bn = b.bn("bn", c, 4);
        String relu = b.relu("relu", bn);
        String sum = b.sum("sum", relu, bn);
        String fc = b.linear("fc", b.flatten("flat", b.globalAvgPool("gap", sum)), 4, 3, true);
        Graph g = b.build(fc);
        Rng rng = new Rng(3);
        for (String p : g.params().names()) {
            if (!p.endsWith("running_var")) rng.fillUniform(g.params().get(p), -0.5f, 0.5f);
        }
        Graph r = g.copy();
        Tensor x = new Rng(4).uniform(Shape.of(2, 2, 6, 6)), dy = new Rng(5).uniform(Shape.of(2, 3));
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2));
             Executor lean = Executor.forTraining(g, cpu, 2);
             Executor full = new Executor(r, cpu, 2, Executor.Mode.TRAINING)) {
            assertEquals(0, lean.inPlaceRelus());
            assertArrayEquals(full.forwardToHost(x).toArray(), lean.forwardToHost(x).toArray());
            lean.backward(dy);
            full.backward(dy);
            assertArrayEquals(r.params().grad("conv.weight").toArray(), g.params().grad("conv.weight").toArray());
        }
    }

    @Test
    void theBatchNormsOutputAndTheReluOutputsGradientAreRefused() {
        Graph g = ExecutorGradientTest.smallNet(41);
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2));
             Executor ex = Executor.forTraining(g, cpu, 2)) {
            assertEquals(1, ex.inPlaceRelus(), "stem_bn -> stem_relu");
            Tensor x = new Rng(1).uniform(Shape.of(2, 3, 8, 8));
            ex.forward(x);
            ex.backward(new Rng(2).uniform(Shape.of(2, 3)));
            ex.activation("stem_relu");
            ex.activationGrad("stem_bn");
            NetslimException a = assertThrows(NetslimException.class, () -> ex.activation("stem_bn"));
            assertTrue(a.getMessage().contains("stem_bn") && a.getMessage().contains("Mode.TRAINING"), a.getMessage());
            NetslimException d = assertThrows(NetslimException.class, () -> ex.activationGrad("stem_relu"));
            assertTrue(d.getMessage().contains("stem_relu"), d.getMessage());
        }
    }

    @Test
    void onlyBackendsThatAllowItAndOnlyWhenAsked() {
        Graph g = ExecutorGradientTest.smallNet(51);
        try (Executor ref = Executor.forTraining(g, new ReferenceKernels(), 2)) {
            assertEquals(0, ref.inPlaceRelus(), "the reference backend does not say its ReLUs run in place");
        }
        boolean was = Executor.IN_PLACE_RELU;
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            Executor.IN_PLACE_RELU = false;
            try (Executor off = Executor.forTraining(g, cpu, 2)) {
                assertEquals(0, off.inPlaceRelus());
            }
        } finally {
            Executor.IN_PLACE_RELU = was;
        }
    }
}
