package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The BatchNorm's affine and input-gradient passes in vector lanes ({@link CpuBatchNorm#VECTOR_PLANES}) give the
 * scalar loops' bits, on planes with and without a vector tail, overwriting and accumulating into dx; the ReLU's
 * backward inside the BatchNorm's gives the two ops' bits.
 */
class CpuBatchNormTest {

    @ParameterizedTest
    @CsvSource({"2, 3, 7, 7", "3, 5, 16, 16", "2, 4, 5, 3", "4, 2, 1, 1", "2, 3, 17, 19"})
    void vectorPassesGiveTheScalarBits(int n, int c, int h, int w) {
        Shape shape = Shape.of(n, c, h, w);
        Rng rng = new Rng(n * 1000L + c * 100 + h * 10 + w);
        Tensor x = rng.uniform(shape), dy = rng.uniform(shape), start = rng.uniform(shape);
        Tensor gamma = rng.uniform(Shape.of(c)), beta = rng.uniform(Shape.of(c));
        boolean was = CpuBatchNorm.VECTOR_PLANES;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            float[][][] out = new float[2][][];
            for (int v = 0; v < 2; v++) {
                CpuBatchNorm.VECTOR_PLANES = v == 1;
                Tensor y = Tensor.zeros(shape), mean = Tensor.zeros(Shape.of(c)), invStd = Tensor.zeros(Shape.of(c));
                Tensor runMean = Tensor.zeros(Shape.of(c)), runVar = Tensor.zeros(Shape.of(c));
                cpu.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
                Tensor eval = Tensor.zeros(shape);
                cpu.batchNormEval(x, gamma, beta, mean, invStd, 1e-5f, eval);
                Tensor into = Tensor.zeros(shape), added = start.copy();
                Tensor dg = Tensor.zeros(Shape.of(c)), db = Tensor.zeros(Shape.of(c));
                cpu.batchNormBackwardInto(x, dy, gamma, mean, invStd, into, dg, db);
                cpu.batchNormBackward(x, dy, gamma, mean, invStd, added, dg, db);
                out[v] = new float[][] {y.toArray(), eval.toArray(), into.toArray(), added.toArray()};
            }
            String[] what = {"train y", "eval y", "dx overwritten", "dx accumulated"};
            for (int k = 0; k < what.length; k++) {
                for (int i = 0; i < out[0][k].length; i++) {
                    assertEquals(Float.floatToRawIntBits(out[0][k][i]), Float.floatToRawIntBits(out[1][k][i]),
                            what[k] + " of " + shape + " at " + i + ": scalar " + out[0][k][i] + ", vector "
                                    + out[1][k][i]);
                }
            }
        } finally {
            CpuBatchNorm.VECTOR_PLANES = was;
        }
    }

    /**
     * batchNormReluBackwardInto, which recomputes the ReLU's mask from x and the saved statistics, gives the bits of
     * the two ops it replaces — reluBackwardInto in place on dy, then batchNormBackwardInto — in dy, dx, dγ and dβ,
     * after the fused forward and after batchNormTrain then relu, on planes summed in blocks (≥ 256 floats), across
     * planes (16–255) and one element at a time, with vector tails; the ReLU cuts some outputs and not all
     * (checked).
     */
    @ParameterizedTest
    @CsvSource({"2, 3, 7, 7", "3, 5, 16, 16", "8, 4, 14, 14", "2, 4, 5, 3", "4, 2, 1, 1", "2, 3, 17, 19",
                "2, 2, 40, 40"})
    void fusedReluBackwardGivesTheTwoOpsBits(int n, int c, int h, int w) {
        Shape shape = Shape.of(n, c, h, w);
        Rng rng = new Rng(7 + n * 1000L + c * 100 + h * 10 + w);
        Tensor x = rng.uniform(shape), dy = rng.uniform(shape);
        Tensor gamma = rng.uniform(Shape.of(c)), beta = rng.uniform(Shape.of(c));
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (boolean fusedForward : new boolean[] {true, false}) {
                Tensor y = Tensor.zeros(shape), mean = Tensor.zeros(Shape.of(c)), invStd = Tensor.zeros(Shape.of(c));
                Tensor runMean = Tensor.zeros(Shape.of(c)), runVar = Tensor.zeros(Shape.of(c));
                if (fusedForward) {
                    cpu.batchNormTrainRelu(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
                } else {
                    cpu.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
                    cpu.relu(y, y);
                }
                int zeros = 0;
                for (float v : y.toArray()) zeros += v == 0f ? 1 : 0;
                assertTrue(zeros > 0 && zeros < y.size(), "the ReLU cuts some outputs, not all: " + zeros);
                Tensor dyTwo = dy.copy(), dxTwo = Tensor.zeros(shape), dgTwo = Tensor.zeros(Shape.of(c));
                Tensor dbTwo = Tensor.zeros(Shape.of(c));
                cpu.reluBackwardInto(y, dyTwo, dyTwo);
                cpu.batchNormBackwardInto(x, dyTwo, gamma, mean, invStd, dxTwo, dgTwo, dbTwo);
                Tensor dyOne = dy.copy(), dxOne = Tensor.zeros(shape), dgOne = Tensor.zeros(Shape.of(c));
                java.util.Arrays.fill(dxOne.data(), Float.NaN); // overwritten: nothing of it may remain
                Tensor dbOne = Tensor.zeros(Shape.of(c));
                cpu.batchNormReluBackwardInto(x, y, dyOne, gamma, beta, mean, invStd, dxOne, dgOne, dbOne);
                String where = shape + (fusedForward ? " after batchNormTrainRelu" : " after batchNormTrain, relu");
                assertSameBits(dyTwo, dyOne, "dy " + where);
                assertSameBits(dxTwo, dxOne, "dx " + where);
                assertSameBits(dgTwo, dgOne, "dgamma " + where);
                assertSameBits(dbTwo, dbOne, "dbeta " + where);
            }
        }
    }

    /**
     * The slice forms (a concat's buffer in the training plan): batchNormTrainReluSlice writes the bits of
     * batchNormTrainRelu into channels [c0, c0 + C) of a bigger buffer and nothing else of it;
     * batchNormReluBackwardIntoSlice reads and masks dy there and gives the bits of batchNormReluBackwardInto in dx,
     * dγ and dβ; on the three plane paths, at the buffer's first, middle and last channels.
     */
    @ParameterizedTest
    @CsvSource({"3, 5, 17, 19, 0, 4", "8, 4, 14, 14, 3, 2", "2, 3, 3, 5, 6, 0", "4, 2, 7, 7, 1, 1"})
    void sliceFormsGiveTheWholeTensorsBits(int n, int c, int h, int w, int c0, int after) {
        Shape shape = Shape.of(n, c, h, w), big = Shape.of(n, c0 + c + after, h, w), ch = Shape.of(c);
        Rng rng = new Rng(11 + n * 1000L + c * 100 + h * 10 + w);
        Tensor x = rng.uniform(shape), dy = rng.uniform(shape);
        Tensor gamma = rng.uniform(ch), beta = rng.uniform(ch);
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            Tensor y = Tensor.zeros(shape), mean = Tensor.zeros(ch), invStd = Tensor.zeros(ch);
            cpu.batchNormTrainRelu(x, gamma, beta, Tensor.zeros(ch), ones(ch), 0.1f, 1e-5f, y, mean, invStd);
            Tensor buffer = rng.uniform(big), before = buffer.copy(), mean2 = Tensor.zeros(ch), inv2 = Tensor.zeros(ch);
            cpu.batchNormTrainReluSlice(x, gamma, beta, Tensor.zeros(ch), ones(ch), 0.1f, 1e-5f, buffer, c0,
                    mean2, inv2);
            Tensor own = Tensor.zeros(shape), rest = Tensor.zeros(big);
            cpu.copyChannels(buffer, c0, own, 0, c, false);
            assertSameBits(y, own, "y in the buffer, " + shape + " at " + c0);
            assertSameBits(mean, mean2, "saved mean");
            assertSameBits(invStd, inv2, "saved 1/sigma");
            cpu.copy(buffer, rest);
            cpu.copyChannels(before, c0, rest, c0, c, false); // put the slice's old values back: all else unchanged
            assertSameBits(before, rest, "the buffer outside the slice");

            Tensor dyOne = dy.copy(), dxOne = Tensor.zeros(shape), dgOne = Tensor.zeros(ch), dbOne = Tensor.zeros(ch);
            cpu.batchNormReluBackwardInto(x, y, dyOne, gamma, beta, mean, invStd, dxOne, dgOne, dbOne);
            Tensor grads = rng.uniform(big), gradsBefore = grads.copy();
            cpu.copyChannels(dy, 0, grads, c0, c, false);
            Tensor dxS = Tensor.zeros(shape), dgS = Tensor.zeros(ch), dbS = Tensor.zeros(ch);
            java.util.Arrays.fill(dxS.data(), Float.NaN); // overwritten
            cpu.batchNormReluBackwardIntoSlice(x, grads, c0, gamma, beta, mean, invStd, dxS, dgS, dbS);
            Tensor dyS = Tensor.zeros(shape);
            cpu.copyChannels(grads, c0, dyS, 0, c, false);
            assertSameBits(dyOne, dyS, "masked dy in the buffer");
            assertSameBits(dxOne, dxS, "dx");
            assertSameBits(dgOne, dgS, "dgamma");
            assertSameBits(dbOne, dbS, "dbeta");
            cpu.copyChannels(gradsBefore, c0, grads, c0, c, false);
            assertSameBits(gradsBefore, grads, "the gradient buffer outside the slice");
        }
    }

    @org.junit.jupiter.api.Test
    void sliceFormsRefuseABufferThatCannotHoldTheChannels() {
        Shape shape = Shape.of(2, 3, 4, 4), ch = Shape.of(3);
        Tensor x = Tensor.zeros(shape);
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> cpu.batchNormTrainReluSlice(x, null, null, null, null, 0.1f, 1e-5f,
                            Tensor.zeros(2, 5, 4, 4), 3, Tensor.zeros(ch), Tensor.zeros(ch)));
            assertTrue(e.getMessage().contains("batchNormTrain") && e.getMessage().contains("at channel 3"),
                    e.getMessage());
            e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> cpu.batchNormReluBackwardIntoSlice(x, Tensor.zeros(3, 8, 4, 4), 0, null, null,
                            Tensor.zeros(ch), ones(ch), Tensor.zeros(shape), null, null));
            assertTrue(e.getMessage().contains("batchNormBackward") && e.getMessage().contains("dy"), e.getMessage());
        }
    }

    private static Tensor ones(Shape s) {
        Tensor t = Tensor.zeros(s);
        java.util.Arrays.fill(t.data(), 1f);
        return t;
    }

    private static void assertSameBits(Tensor expected, Tensor actual, String what) {
        float[] e = expected.toArray(), a = actual.toArray();
        for (int i = 0; i < e.length; i++) {
            assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                    what + " at " + i + ": two ops " + e[i] + ", fused " + a[i]);
        }
    }
}
