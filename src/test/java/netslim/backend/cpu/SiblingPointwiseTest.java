package netslim.backend.cpu;

import static netslim.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
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
 * Sibling pointwise convs as one stacked product ({@link CpuBackend#conv2dSiblings},
 * {@link CpuBackend#conv2dSiblingsBackward} on OpenBLAS, {@link SiblingPointwise}) against the double reference of
 * each member's conv and its backward, gradients added into buffers that already hold values: maps of at least 196
 * pixels per image (14x14), smaller ones with each thread's images side by side (7x7, 1x1, 3x4, 5x3, 6x6).
 */
class SiblingPointwiseTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // threads, images, inputs, height, width, member outputs, bias, dx
                Arguments.of(2, 2, 5, 3, 4, new int[] {4, 8, 3}, false, true),
                Arguments.of(2, 3, 17, 7, 7, new int[] {16, 1}, true, true),
                Arguments.of(3, 5, 9, 1, 1, new int[] {5, 7, 9, 2}, true, true),
                Arguments.of(2, 8, 24, 14, 14, new int[] {12, 20, 4}, false, true),
                Arguments.of(3, 4, 6, 5, 3, new int[] {3, 3}, true, false),
                Arguments.of(4, 9, 11, 6, 6, new int[] {8, 13, 5}, false, true));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesEachMembersReference(int threads, int images, int cin, int h, int w, int[] couts, boolean bias,
                                     boolean withDx) {
        Rng r = new Rng(31L * images + cin);
        int k = couts.length;
        ConvSpec[] specs = new ConvSpec[k];
        Tensor[] ws = new Tensor[k], bs = new Tensor[k], ys = new Tensor[k], dys = new Tensor[k], dws = new Tensor[k],
                dbs = new Tensor[k];
        for (int i = 0; i < k; i++) {
            specs[i] = ConvSpec.of(cin, couts[i], 1, 1, 0);
            ws[i] = r.uniform(Shape.of(couts[i], cin, 1, 1));
            bs[i] = bias ? r.uniform(Shape.of(couts[i])) : null;
            ys[i] = r.uniform(Shape.of(images, couts[i], h, w)); // overwritten: must not leak through
            dys[i] = r.uniform(Shape.of(images, couts[i], h, w));
            dws[i] = r.uniform(ws[i].shape()); // gradients are added in
            dbs[i] = bias ? r.uniform(Shape.of(couts[i])) : null;
        }
        Tensor x = r.uniform(Shape.of(images, cin, h, w));
        Tensor dx = withDx ? r.uniform(x.shape()) : null;
        Tensor[] refDws = copies(dws), refDbs = copies(dbs);
        Tensor refDx = dx == null ? null : dx.copy();
        try (CpuBackend b = CpuBackend.create(threads, new OpenBlasGemm(threads))) {
            assertTrue(b.stacksSiblings(x, specs), "the stacked product takes the call");
            b.conv2dSiblings(x, ws, bs, ys, specs);
            b.conv2dSiblingsBackward(x, ws, dys, dx, dws, dbs, specs);
        }
        for (int i = 0; i < k; i++) {
            Tensor ref = Tensor.zeros(ys[i].shape());
            ReferenceConv.conv2d(x, ws[i], bs[i], ref, specs[i]);
            assertClose(ys[i], ref, 1e-5, 1e-5, "y of member " + i);
            ReferenceConv.conv2dBackward(x, ws[i], dys[i], refDx, refDws[i], refDbs[i], specs[i]);
        }
        for (int i = 0; i < k; i++) {
            assertClose(dws[i], refDws[i], 1e-4, 1e-5, "dw of member " + i);
            if (bias) assertClose(dbs[i], refDbs[i], 1e-4, 1e-5, "db of member " + i);
        }
        if (withDx) assertClose(dx, refDx, 1e-5, 1e-5, "dx");
    }

    /** The stacked product writes every output element: a second call gives the same bits as the first. */
    @Test
    void repeatsBitForBit() {
        Rng r = new Rng(5);
        ConvSpec[] specs = {ConvSpec.of(12, 6, 1, 1, 0), ConvSpec.of(12, 10, 1, 1, 0)};
        Tensor x = r.uniform(Shape.of(4, 12, 9, 9));
        Tensor[] ws = {r.uniform(Shape.of(6, 12, 1, 1)), r.uniform(Shape.of(10, 12, 1, 1))};
        Tensor[] first = {Tensor.zeros(4, 6, 9, 9), Tensor.zeros(4, 10, 9, 9)};
        Tensor[] second = {r.uniform(Shape.of(4, 6, 9, 9)), r.uniform(Shape.of(4, 10, 9, 9))};
        try (CpuBackend b = CpuBackend.create(2, new OpenBlasGemm(2))) {
            b.conv2dSiblings(x, ws, new Tensor[2], first, specs);
            b.conv2dSiblings(x, ws, new Tensor[2], second, specs);
        }
        for (int i = 0; i < 2; i++) assertTrue(Arrays.equals(first[i].toArray(), second[i].toArray()), "member " + i);
    }

    /** Where the stacked product does not apply, the members run one by one (the interface's default). */
    @Test
    void takesOnlyPointwiseMembersOnOpenBlasWithEnoughImages() {
        ConvSpec one = ConvSpec.of(8, 4, 1, 1, 0), other = ConvSpec.of(8, 6, 1, 1, 0);
        Tensor x = Tensor.zeros(2, 8, 5, 5);
        try (CpuBackend blas = CpuBackend.create(2, new OpenBlasGemm(2));
             CpuBackend java = CpuBackend.create(2, new VectorGemm(2));
             CpuBackend single = CpuBackend.create(1, new OpenBlasGemm(1))) {
            assertTrue(blas.stacksSiblings(x, new ConvSpec[] {one, other}));
            assertFalse(blas.stacksSiblings(Tensor.zeros(1, 8, 5, 5), new ConvSpec[] {one, other}), "1 image");
            assertFalse(blas.stacksSiblings(x, new ConvSpec[] {one, ConvSpec.of(8, 6, 3, 1, 1)}), "a 3x3 member");
            assertFalse(blas.stacksSiblings(x, new ConvSpec[] {one}), "one member");
            assertFalse(java.stacksSiblings(x, new ConvSpec[] {one, other}), "the Java GEMM");
            assertFalse(single.stacksSiblings(x, new ConvSpec[] {one, other}), "one thread");
            boolean was = SiblingPointwise.ENABLED;
            try {
                SiblingPointwise.ENABLED = false;
                assertFalse(blas.stacksSiblings(x, new ConvSpec[] {one, other}), "-Dnetslim.train.stackedSiblings");
            } finally {
                SiblingPointwise.ENABLED = was;
            }
        }
    }

    @Test
    void rejectsAMemberOfTheWrongShapeByName() {
        ConvSpec[] specs = {ConvSpec.of(8, 4, 1, 1, 0), ConvSpec.of(8, 6, 1, 1, 0)};
        Tensor x = Tensor.zeros(2, 8, 5, 5);
        Tensor[] ws = {Tensor.zeros(4, 8, 1, 1), Tensor.zeros(6, 8, 1, 1)};
        try (CpuBackend b = CpuBackend.create(2, new OpenBlasGemm(2))) {
            var e = assertThrows(IllegalArgumentException.class, () -> b.conv2dSiblings(x, ws, new Tensor[2],
                    new Tensor[] {Tensor.zeros(2, 4, 5, 5), Tensor.zeros(2, 6, 5, 4)}, specs));
            assertTrue(e.getMessage().contains("conv2dSiblings") && e.getMessage().contains("ys[1]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.conv2dSiblingsBackward(x, ws,
                    new Tensor[] {Tensor.zeros(2, 4, 5, 5), Tensor.zeros(2, 6, 5, 5)}, null,
                    new Tensor[] {Tensor.zeros(4, 8, 1, 1), Tensor.zeros(6, 7, 1, 1)}, new Tensor[2], specs));
            assertTrue(e.getMessage().contains("dws[1]"), e.getMessage());
        }
    }

    private static Tensor[] copies(Tensor[] ts) {
        Tensor[] out = new Tensor[ts.length];
        for (int i = 0; i < ts.length; i++) out[i] = ts[i] == null ? null : ts[i].copy();
        return out;
    }
}
