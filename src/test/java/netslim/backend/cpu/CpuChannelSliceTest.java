package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.backend.ConvSpec;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The serving plan's writes into a concat's buffer at batch > 1 ({@code conv2dPreparedSlice},
 * {@code conv2dPreparedSplitSlices}): the slice holds exactly what {@code conv2dPrepared} writes into a tensor of
 * its own (same kernels, same floats), and every other element of the buffer is left as it was.
 */
class CpuChannelSliceTest {

    static Stream<Arguments> convs() {
        return Stream.of(
                // Winograd F(2x2, 3x3), padding 1, odd sizes; F(4x4, 3x3); DirectPointwise (≤ 64 outputs), a
                // 7x7 map's two panels in one item
                Arguments.of("winograd2", 2, ConvSpec.of(16, 24, 3, 1, 1), 13, 15, 8, 56),
                Arguments.of("winograd4", 1, ConvSpec.of(32, 40, 3, 1, 1), 57, 57, 16, 64),
                Arguments.of("pointwise", 3, ConvSpec.of(40, 24, 1, 1, 0), 9, 9, 24, 48),
                Arguments.of("pointwise 7x7", 2, ConvSpec.of(24, 40, 1, 1, 0), 7, 7, 0, 40));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convs")
    void sliceHoldsTheConvAndNothingElseMoves(String label, int n, ConvSpec s, int h, int w, int c0, int channels) {
        Rng rng = new Rng(label.hashCode());
        Tensor x = rng.uniform(Shape.of(n, s.inChannels(), h, w));
        Tensor wt = rng.uniform(Shape.of(s.outChannels(), s.inChannels(), s.kh(), s.kw()));
        Tensor bias = rng.uniform(Shape.of(s.outChannels()));
        int oh = s.outH(h), ow = s.outW(w);
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            Tensor prepared = cpu.prepareConvWeights(wt, s, x.shape());
            assertTrue(prepared != null && cpu.writesChannelSlices(prepared, s), label + ": a slice-writing path");
            Tensor own = Tensor.zeros(n, s.outChannels(), oh, ow);
            cpu.conv2dPrepared(x, prepared, bias, own, s, true);
            Tensor buffer = rng.uniform(Shape.of(n, channels, oh, ow)), before = buffer.copy();
            cpu.conv2dPreparedSlice(x, prepared, bias, buffer, c0, s, true);
            checkSlice(buffer, before, own, c0, label);
            assertThrows(IllegalArgumentException.class, () -> cpu.conv2dPreparedSlice(x, prepared, bias, buffer,
                    channels - s.outChannels() + 1, s, true), "a slice past the buffer's channels");
        }
    }

    /** Members of 16, 24 and 8 outputs: the first and last into one buffer at channels 8 and 40, the second its own. */
    @Test
    void splitMembersWriteTheirSlices() {
        Rng rng = new Rng(7);
        int n = 2, cin = 40, h = 9, w = 11;
        int[] couts = {16, 24, 8};
        ConvSpec stacked = ConvSpec.of(cin, 48, 1, 1, 0);
        Tensor x = rng.uniform(Shape.of(n, cin, h, w)), wt = rng.uniform(Shape.of(48, cin, 1, 1));
        Tensor bias = rng.uniform(Shape.of(48));
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            Tensor prepared = cpu.prepareSplitPointwise(wt, stacked, couts, x.shape());
            assertTrue(prepared != null && cpu.writesChannelSlices(prepared, stacked));
            Tensor[] own = {Tensor.zeros(n, 16, h, w), Tensor.zeros(n, 24, h, w), Tensor.zeros(n, 8, h, w)};
            cpu.conv2dPreparedSplit(x, prepared, bias, own, stacked, true);
            Tensor buffer = rng.uniform(Shape.of(n, 64, h, w)), before = buffer.copy();
            Tensor second = rng.uniform(Shape.of(n, 24, h, w));
            cpu.conv2dPreparedSplitSlices(x, prepared, bias, new Tensor[] {buffer, second, buffer},
                    new int[] {8, 0, 40}, couts, stacked, true);
            assertArrayEquals(own[1].toArray(), second.toArray(), "the member with a tensor of its own");
            Tensor expected = before.copy();
            copySlice(own[0], expected, 8);
            copySlice(own[2], expected, 40);
            assertArrayEquals(expected.toArray(), buffer.toArray(), "members 0 and 2 at channels 8 and 40");
        }
    }

    private static void checkSlice(Tensor buffer, Tensor before, Tensor own, int c0, String label) {
        Tensor expected = before.copy();
        copySlice(own, expected, c0);
        assertArrayEquals(expected.toArray(), buffer.toArray(), label + ": channels " + c0 + "+ hold the conv, "
                + "the rest is untouched");
        assertEquals(own.shape().dim(0), buffer.shape().dim(0));
    }

    /** dst[:, c0 + c] = src[:, c] for src's channels. */
    private static void copySlice(Tensor src, Tensor dst, int c0) {
        int n = src.shape().dim(0), c = src.shape().dim(1), plane = src.shape().dim(2) * src.shape().dim(3);
        int dc = dst.shape().dim(1);
        for (int i = 0; i < n; i++) {
            System.arraycopy(src.data(), src.offset() + i * c * plane, dst.data(),
                    dst.offset() + (i * dc + c0) * plane, c * plane);
        }
    }
}
