package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which pointwise convs run their backward one share of images per thread (CpuConv.perImageBackward). */
class PointwiseBackwardRuleTest {

    @Test
    void mapsOf196PixelsOrFewOutputs() {
        assertTrue(CpuConv.perImageBackward(196, 384), "14x14, many outputs");
        assertTrue(CpuConv.perImageBackward(3136, 64), "56x56");
        assertTrue(CpuConv.perImageBackward(49, 64), "7x7, 64 outputs");
        assertFalse(CpuConv.perImageBackward(49, 65), "7x7, more than 64 outputs: the batched product");
        assertFalse(CpuConv.perImageBackward(195, 128), "under 196 pixels");
        boolean was = CpuConv.PER_IMAGE_BACKWARD;
        try {
            CpuConv.PER_IMAGE_BACKWARD = false;
            assertFalse(CpuConv.perImageBackward(3136, 64), "-Dnetslim.conv.perImage1x1Backward=false");
        } finally {
            CpuConv.PER_IMAGE_BACKWARD = was;
        }
    }
}
