package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's automatic rule for prepared (Winograd) convs: the parity suite's prepared-conv cases must reach
 * the Winograd path rather than the conv2d fallback, and the rule declines the shapes it was measured to lose on.
 */
class PreparedConvRuleTest {

    @Test
    void parityShapesTakeTheWinogradPathAndSmallShapesDoNot() {
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (ConvParityCases.ConvShape s : ConvParityCases.preparedShapes()) {
                assertNotNull(cpu.prepareConvWeights(Tensor.zeros(s.weight()), s.spec(), Shape.of(s.x())), s.label());
            }
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 1, 1),
                    Shape.of(1, 32, 7, 7)), "a 7x7 map at batch 1 has 16 tiles");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 8, 3, 3), ConvSpec.of(8, 32, 3, 1, 1),
                    Shape.of(4, 8, 28, 28)), "8 input channels");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 2, 1),
                    Shape.of(4, 32, 28, 28)), "stride 2");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 1, 1), ConvSpec.of(32, 32, 1, 1, 0),
                    Shape.of(4, 32, 28, 28)), "1x1");
        }
    }
}
