package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The serving plan's shared activation arrays: the greedy plan itself, and whole models with and without it. */
class BufferSharingTest {

    static IntStream seeds() {
        return IntStream.rangeClosed(1, 16);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void noTwoLiveBuffersShareAnArray(int seed) {
        Random r = new Random(seed);
        List<BufferSharing.Lifetime> bs = new ArrayList<>();
        int n = 1 + r.nextInt(80);
        for (int i = 0; i < n; i++) {
            int first = r.nextInt(50);
            bs.add(new BufferSharing.Lifetime(first, first + r.nextInt(r.nextBoolean() ? 3 : 15), 1 + r.nextInt(1000)));
        }
        BufferSharing.Plan p = BufferSharing.plan(bs);
        assertEquals(n, p.arrayOf().length);
        long sum = 0;
        for (int i = 0; i < n; i++) {
            BufferSharing.Lifetime a = bs.get(i);
            sum += a.floats();
            assertTrue(p.arraySize()[p.arrayOf()[i]] >= a.floats(), "buffer " + i + " " + a + " fits its array");
            for (int j = i + 1; j < n; j++) {
                BufferSharing.Lifetime b = bs.get(j);
                boolean overlap = a.first() <= b.last() && b.first() <= a.last();
                assertTrue(!overlap || p.arrayOf()[i] != p.arrayOf()[j],
                        "seed " + seed + ": buffers " + i + " " + a + " and " + j + " " + b + " live together in one array");
            }
        }
        for (int arr = 0; arr < p.arraySize().length; arr++) {
            int owner = p.ownerOf()[arr];
            assertEquals(arr, p.arrayOf()[owner], "array " + arr + " is its owner's");
            assertEquals(bs.get(owner).floats(), p.arraySize()[arr], "array " + arr + " has its owner's size");
        }
        // no more than every buffer alone, no less than the floats live at the busiest step
        long busiest = 0;
        for (int step = 0; step < 70; step++) {
            int s = step;
            busiest = Math.max(busiest, bs.stream().filter(b -> b.first() <= s && s <= b.last())
                    .mapToLong(BufferSharing.Lifetime::floats).sum());
        }
        assertTrue(p.totalFloats() <= sum && p.totalFloats() >= busiest, p.totalFloats() + " in [" + busiest + ", "
                + sum + "]");
    }

    @Test
    void aChainReusesTheArrayOfTwoStepsBack() {
        // each step reads the buffer before it and writes the next: two arrays alternate
        List<BufferSharing.Lifetime> chain = new ArrayList<>();
        for (int i = 0; i < 6; i++) chain.add(new BufferSharing.Lifetime(i, i + 1, 10));
        BufferSharing.Plan p = BufferSharing.plan(chain);
        assertArrayEquals(new int[] {0, 1, 0, 1, 0, 1}, p.arrayOf());
        assertEquals(20, p.totalFloats());
        assertTrue(p.shared(0) && p.shared(5));
        // a freed array too small for the next buffer is not used; the largest starter takes the one that fits
        p = BufferSharing.plan(List.of(new BufferSharing.Lifetime(0, 0, 5), new BufferSharing.Lifetime(1, 1, 10),
                new BufferSharing.Lifetime(0, 0, 12), new BufferSharing.Lifetime(1, 1, 3)));
        assertArrayEquals(new int[] {1, 0, 0, 1}, p.arrayOf());
        assertEquals(17, p.totalFloats());
    }

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("googlenet", Shape.of(3, 64, 64), 1.0, 1),
                Arguments.of("googlenet", Shape.of(3, 64, 64), 1.0, 2),
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), 0.25, 1),
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), 0.25, 3),
                Arguments.of("resnet20-cifar", Shape.of(1, 28, 28), 1.0, 1),
                Arguments.of("resnet20-cifar", Shape.of(1, 28, 28), 1.0, 2),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28), 1.0, 2));
    }

    /**
     * Every tensor a node's ops take (read or write) whose storage the plan placed lies in a storage live at that node:
     * the plan's lifetimes cover what the ops really touch (a missed write would let another buffer take the array
     * while it is still needed).
     */
    @ParameterizedTest
    @MethodSource("models")
    void everyOpTouchesOnlyLiveBuffers(String name, Shape input, double width, int batch) {
        Graph g = FusedInferenceTest.model(name, input, width);
        boolean was = Executor.SHARE_BUFFERS, slicesWere = Executor.CONCAT_SLICES;
        Executor.SHARE_BUFFERS = true;
        List<Tensor> touched = new ArrayList<>();
        // at batch > 1 also with every concat copying: merged siblings then write their members' own tensors
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (boolean slices : batch == 1 ? new boolean[] {true} : new boolean[] {true, false}) {
                Executor.CONCAT_SLICES = slices;
                try (Executor ex = Executor.forInferenceWholeBatch(g, netslim.testing.BackendProxy.wrap(cpu, (m, args) -> {
                    for (Object a : args == null ? new Object[0] : args) {
                        if (a instanceof Tensor t) touched.add(t);
                        if (a instanceof Tensor[] ts) touched.addAll(List.of(ts));
                    }
                    return netslim.testing.BackendProxy.DELEGATE;
                }), batch)) {
                    int[] checked = {0};
                    ex.setNodeTimer((n, nanos) -> {
                        int step = ex.graph().nodes().indexOf(n);
                        for (Tensor t : touched) {
                            int[] life = ex.bufferLifetime(t);
                            if (life == null) continue;
                            checked[0]++;
                            assertTrue(life[0] <= step && step <= life[1], name + ": node " + n.name() + " (" + step
                                    + ") touches a buffer planned live over [" + life[0] + ", " + life[1] + "]");
                        }
                        touched.clear();
                    });
                    ex.forward(new Rng(5).uniform(Shape.of(batch, input.dim(0), input.dim(1), input.dim(2))));
                    assertTrue(checked[0] > g.nodes().size() / 2, name + ": " + checked[0] + " planned tensors seen");
                }
            }
        } finally {
            Executor.SHARE_BUFFERS = was;
            Executor.CONCAT_SLICES = slicesWere;
        }
    }

    /**
     * The serving plan with shared arrays gives the bits of the plan without them, pass after pass on different
     * inputs (a buffer reused too early, or read after another wrote its array, changes them), holding less memory.
     */
    @ParameterizedTest
    @MethodSource("models")
    void sharedArraysGiveTheSameBits(String name, Shape input, double width, int batch) {
        Graph g = FusedInferenceTest.model(name, input, width);
        boolean was = Executor.SHARE_BUFFERS;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (boolean wholeBatch : batch == 1 ? new boolean[] {true} : new boolean[] {true, false}) {
                Executor.SHARE_BUFFERS = false;
                Executor own = wholeBatch ? Executor.forInferenceWholeBatch(g, cpu, batch)
                        : Executor.forInference(g, cpu, batch);
                Executor.SHARE_BUFFERS = true;
                Executor shared = wholeBatch ? Executor.forInferenceWholeBatch(g, cpu, batch)
                        : Executor.forInference(g, cpu, batch);
                try (own; shared) {
                    assertEquals(-1, own.activationBytes(), "not sharing: no figure");
                    long all = 4L * g.shapes(wholeBatch || !shared.imageByImage() ? batch : 1).values().stream()
                            .mapToLong(Shape::size).sum();
                    assertTrue(shared.activationBytes() > 0 && shared.activationBytes() < all / 2, name + ": "
                            + shared.activationBytes() + " bytes of activations against " + all + " for every node's own");
                    for (int pass = 0; pass < 3; pass++) {
                        Tensor x = new Rng(100 + pass).uniform(Shape.of(batch, input.dim(0), input.dim(1), input.dim(2)));
                        float[] want = own.forwardToHost(x).toArray();
                        float[] got = shared.forwardToHost(x).toArray();
                        assertArrayEquals(want, got, name + " batch " + batch + (wholeBatch ? "" : " (served as planned)")
                                + ", pass " + pass + ": shared arrays change the output");
                        assertArrayEquals(want, shared.activation(g.outputName()).toArray(), "the output stays readable");
                    }
                }
            }
        } finally {
            Executor.SHARE_BUFFERS = was;
        }
    }
}
