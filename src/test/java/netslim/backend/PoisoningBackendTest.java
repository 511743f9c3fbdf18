package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Tensor;
import netslim.testing.BackendProxy;
import netslim.testing.Close;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The NaN-poisoning decorator used on the GPU: transparent for a correct backend, fatal for a lazy one. */
class PoisoningBackendTest {

    /** The reference, except that relu writes only the first half of y: the bug poisoning exists to catch. */
    private static Backend halfRelu() {
        return BackendProxy.wrap(ReferenceKernels.create(), (method, args) -> {
            if (!method.getName().equals("relu")) return BackendProxy.DELEGATE;
            Tensor x = (Tensor) args[0], y = (Tensor) args[1];
            for (int i = 0; i < x.size() / 2; i++) y.set(i, Math.max(x.get(i), 0f));
            return null;
        });
    }

    @Test
    void correctBackendIsUnaffected() {
        Backend poisoned = new PoisoningBackend(ReferenceKernels.create());
        List<ParityCase> cases = BackendParityTest.cases().stream()
                .filter(c -> c.name().startsWith("relu ") || c.name().startsWith("conv2d 3x3 pad1 1x3")
                        || c.name().startsWith("batchNormTrain") || c.name().startsWith("dropout p=0.3")
                        || c.name().startsWith("softmaxCrossEntropy") || c.name().startsWith("im2col"))
                .toList();
        assertTrue(cases.size() >= 8, "cases found: " + cases);
        for (ParityCase c : cases) {
            Map<String, float[]> expected = c.run(ReferenceKernels.create(), 1L);
            Map<String, float[]> actual = c.run(poisoned, 1L);
            assertEquals(expected.keySet(), actual.keySet());
            for (var e : expected.entrySet()) {
                Close.assertClose(actual.get(e.getKey()), e.getValue(), 0, 0, c.name() + " / " + e.getKey());
            }
        }
    }

    @Test
    void unwrittenElementsStayNaNAndFail() {
        ParityCase relu = BackendParityTest.cases().stream().filter(c -> c.name().startsWith("relu ")).findFirst()
                .orElseThrow();
        Map<String, float[]> expected = relu.run(ReferenceKernels.create(), 1L);
        float[] y = relu.run(new PoisoningBackend(halfRelu()), 1L).get("y");
        assertTrue(Float.isNaN(y[y.length - 1]), "the unwritten tail must be NaN");
        assertThrows(AssertionFailedError.class,
                () -> Close.assertClose(y, expected.get("y"), 1e-5, 1e-4, "half relu"));
    }
}
