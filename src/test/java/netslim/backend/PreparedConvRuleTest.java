package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
            // A 7x7 map at batch 1 has 16 tiles: not Winograd; where the 8-row tile is the machine's the weights are
            // packed for the unfolded in-place product (32 outputs: 4 panels of 8 rows of K = 288), else none.
            packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 1, 1),
                    Shape.of(1, 32, 7, 7)), Shape.of(4, 288, 8), "a 7x7 map at batch 1");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 1, 1),
                    Shape.of(2, 32, 7, 7)), "a 7x7 map at batch 2 has 32 tiles");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 8, 3, 3), ConvSpec.of(8, 32, 3, 1, 1),
                    Shape.of(4, 8, 28, 28)), "8 input channels");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 2, 1),
                    Shape.of(4, 32, 28, 28)), "stride 2");
            // A 1x1 conv with 9-64 outputs: packed for the in-place 8x32 kernel where that tile is the machine's.
            packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(32, 32, 1, 1), ConvSpec.of(32, 32, 1, 1, 0),
                    Shape.of(4, 32, 28, 28)), Shape.of(4, 32, 8), "1x1");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(128, 64, 1, 1), ConvSpec.of(64, 128, 1, 1, 0),
                    Shape.of(4, 64, 28, 28)), "1x1 with 128 outputs and 64 inputs stays on the GEMM");
            // ... but with at most 32 inputs (a Tucker chain's last 1x1) it takes the tile whatever its width
            packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(128, 32, 1, 1), ConvSpec.of(32, 128, 1, 1, 0),
                    Shape.of(4, 32, 28, 28)), Shape.of(16, 32, 8), "1x1 with 128 outputs and 32 inputs");
            // ... except on maps of at most 64 pixels: with outputs in groups of 16 the channel-vector kernel
            // (ChannelPointwise: (groups, cin, 16)), else the 8x32 tile (one item covers both panels)
            packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(128, 32, 1, 1), ConvSpec.of(32, 128, 1, 1, 0),
                    Shape.of(4, 32, 7, 7)), Shape.of(8, 32, 16), "1x1 on a 7x7 map");
            packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(120, 32, 1, 1), ConvSpec.of(32, 120, 1, 1, 0),
                    Shape.of(4, 32, 7, 7)), Shape.of(15, 32, 8), "1x1 with 120 outputs on a 7x7 map");
            // The unfolded in-place path only at batch 1, and not for the banded stem.
            assertNull(cpu.prepareConvWeights(Tensor.zeros(32, 32, 3, 3), ConvSpec.of(32, 32, 3, 1, 1),
                    Shape.of(2, 32, 7, 7)), "a 7x7 map at batch 2");
            assertNull(cpu.prepareConvWeights(Tensor.zeros(64, 3, 7, 7), new ConvSpec(3, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1),
                    Shape.of(1, 3, 224, 224)), "the stem (3 inputs, banded)");
            for (ConvParityCases.ConvShape s : ConvParityCases.unfoldedShapes()) {
                packedWhereTheTileIs(cpu.prepareConvWeights(Tensor.zeros(s.weight()), s.spec(), Shape.of(s.x())),
                        Shape.of((s.spec().outChannels() + 7) / 8, s.spec().fanIn(), 8), s.label());
            }
        }
    }

    /** Weights packed in 8-row panels of this shape where the 8x32 tile is the machine's, else none prepared. */
    private static void packedWhereTheTileIs(Tensor prepared, Shape want, String what) {
        if (CpuBackend.autoJavaProducts()) assertEquals(want, prepared.shape(), what);
        else assertNull(prepared, what + " without the 8-row tile");
    }

    /** F(4x4, 3x3) (36 transformed weights per kernel) only where it measured faster than F(2x2, 3x3) (16). */
    @Test
    void theTileSizeFollowsTheMeasuredRule() {
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("openblas", 2))) {
            assertTile(cpu, 4, 64, 192, 1, 56, "GoogLeNet's conv3 at batch 1");
            assertTile(cpu, 2, 96, 128, 1, 28, "a 28x28 map at batch 1: 49 tiles of 4x4");
            assertTile(cpu, 2, 160, 320, 1, 14, "a 14x14 map at batch 1: 49 tiles of 2x2");
            assertTile(cpu, 4, 96, 128, 8, 28, "a 28x28 map at batch 8");
            assertTile(cpu, 2, 144, 288, 8, 14, "a 14x14 map at batch 8");
            assertTile(cpu, 2, 16, 32, 8, 28, "16 input channels");
            assertTile(cpu, 4, 32, 96, 8, 28, "32 input channels");
        }
    }

    private static void assertTile(CpuBackend cpu, int tile, int c, int k, int n, int hw, String what) {
        Tensor u = cpu.prepareConvWeights(Tensor.zeros(k, c, 3, 3), ConvSpec.of(c, k, 3, 1, 1), Shape.of(n, c, hw, hw));
        assertNotNull(u, what);
        org.junit.jupiter.api.Assertions.assertEquals((tile + 2) * (tile + 2), u.shape().dim(0), what);
    }
}
