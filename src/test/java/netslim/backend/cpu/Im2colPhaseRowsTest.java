package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import netslim.backend.ConvSpec;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The banded unfold at column stride 2 from each input row's even and odd halves (Im2col.unfoldRowsFromPhases) gives
 * the reference im2col's columns exactly — padding, odd widths (the odd half one shorter), dilation, kernels of 1 to
 * 7 columns, bands that start and end anywhere, rows past the image — for every band of a call, and the same as the
 * per-row gathers it replaces.
 */
class Im2colPhaseRowsTest {

    @ParameterizedTest(name = "c{0} {1}x{2} k{3} pad {4} dil {5} strideH {6} band {7}")
    @CsvSource({
        "3, 224, 224, 7, 3, 1, 2, 2", // GoogLeNet's and ResNet's stem, bands of 2 output rows
        "3, 40, 40, 7, 3, 1, 2, 3",
        "2, 17, 33, 3, 1, 1, 2, 4", // odd width: the even half one longer
        "2, 16, 35, 3, 0, 1, 2, 1",
        "1, 12, 50, 5, 2, 2, 2, 3", // dilation 2
        "2, 9, 31, 1, 0, 1, 2, 2", // 1x1 stride 2
        "2, 11, 37, 3, 1, 1, 1, 5", // stride 1 down the rows, 2 across
        "1, 8, 6, 3, 1, 1, 2, 2"}) // a row narrower than a vector: all scalar
    void bandsMatchTheReferenceExactly(int c, int h, int w, int k, int pad, int dil, int strideH, int band) {
        ConvSpec s = new ConvSpec(c, 4, k, k, strideH, 2, pad, pad, dil, dil, 1);
        int oh = s.outH(h), ow = s.outW(w), rows = c * k * k;
        Tensor x = new Rng(k * 31 + w).uniform(Shape.of(2, c, h, w));
        Tensor want = Tensor.zeros(rows, oh * ow);
        ReferenceKernels.create().im2col(x, 1, s, want);
        Im2col.Geometry g = new Im2col.Geometry(s, c, h, w, oh, ow);
        Im2col.Columns[] cols = Im2col.Columns.all(g);
        boolean was = Im2col.PHASE_ROWS;
        try {
            for (boolean phases : new boolean[] {true, false}) {
                Im2col.PHASE_ROWS = phases;
                for (int oy0 = 0; oy0 < oh; oy0 += band) {
                    int oy1 = Math.min(oh, oy0 + band), ld = (oy1 - oy0) * ow + 3; // a row stride wider than the band
                    float[] got = new float[rows * ld + 5];
                    java.util.Arrays.fill(got, Float.NaN); // every element the band owns must be written
                    Im2col.unfoldRows(x.data(), x.offset(), g, cols, 1, 0, c, oy0, oy1, got, 2, ld);
                    for (int r = 0; r < rows; r++) {
                        for (int q = 0; q < (oy1 - oy0) * ow; q++) {
                            float e = want.data()[r * oh * ow + oy0 * ow + q], a = got[2 + r * ld + q];
                            if (Float.floatToRawIntBits(e) != Float.floatToRawIntBits(a)) {
                                fail("phases " + phases + ", band [" + oy0 + ", " + oy1 + "), row " + r + ", column "
                                        + q + ": reference " + e + ", got " + a + " (" + s + ", " + h + "x" + w + ")");
                            }
                        }
                    }
                }
            }
        } finally {
            Im2col.PHASE_ROWS = was;
        }
    }
}
