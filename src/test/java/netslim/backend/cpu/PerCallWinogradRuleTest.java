package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * Which unprepared 3x3 convs (training) take Winograd: forward from 196 output pixels in the call, the input gradient
 * from 784 pixels of dx at least 14 wide (CpuBackend#perCallForwardTile, #inputGradientTile; bench/RESULTS.md,
 * session 17).
 */
class PerCallWinogradRuleTest {
    private static final ConvSpec BIG = ConvSpec.of(192, 384, 3, 1, 1), MID = ConvSpec.of(160, 320, 3, 1, 1);

    @Test
    void forwardFrom196OutputPixels() {
        assertTrue(CpuBackend.perCallForwardTile(BIG, Shape.of(8, 192, 7, 7)) > 0, "7x7 at batch 8: 392 pixels");
        assertTrue(CpuBackend.perCallForwardTile(BIG, Shape.of(4, 192, 7, 7)) > 0, "7x7 at batch 4: 196");
        assertTrue(CpuBackend.perCallForwardTile(MID, Shape.of(1, 160, 14, 14)) > 0, "14x14 at batch 1: 196");
        assertEquals(0, CpuBackend.perCallForwardTile(BIG, Shape.of(2, 192, 7, 7)), "7x7 at batch 2: 98");
    }

    @Test
    void inputGradientFrom784PixelsAtLeast14Wide() {
        assertEquals(0, CpuBackend.inputGradientTile(BIG, Shape.of(8, 384, 7, 7)), "7x7 at batch 8");
        assertEquals(0, CpuBackend.inputGradientTile(BIG, Shape.of(16, 384, 7, 7)), "7x7 at batch 16: 784, 7 wide");
        assertTrue(CpuBackend.inputGradientTile(MID, Shape.of(4, 320, 14, 14)) > 0, "14x14 at batch 4: 784");
        assertEquals(0, CpuBackend.inputGradientTile(MID, Shape.of(2, 320, 14, 14)), "14x14 at batch 2: 392");
        assertTrue(CpuBackend.inputGradientTile(ConvSpec.of(96, 128, 3, 1, 1), Shape.of(1, 128, 28, 28)) > 0,
                "28x28 at batch 1: 784");
    }
}
