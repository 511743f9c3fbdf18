package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import netslim.testing.BackendProxy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CPU serving plan runs a batch image by image when the model has few MACs per activation byte
 * ({@link Executor#IMAGE_BY_IMAGE_BELOW}): the choice on both sides of the line, the same outputs as the plain
 * reference plan, and per-node times summed over the batch once per pass.
 */
class ImageByImageServingTest {

    /** googlenet-cifar at width 0.25: 4x fewer channels, so ~16x fewer MACs for ~4x fewer activations. */
    private static Graph thin() {
        return FusedInferenceTest.model("googlenet-cifar", Shape.of(1, 28, 28), 0.25);
    }

    @Test
    void theChoiceFollowsTheModelsMacsPerActivationByte() {
        Graph thin = thin(), dense = FusedInferenceTest.model("googlenet", Shape.of(3, 64, 64), 1.0);
        double low = Executor.macsPerActivationByte(thin), high = Executor.macsPerActivationByte(dense);
        assertTrue(low < Executor.IMAGE_BY_IMAGE_BELOW, "thin googlenet-cifar: " + low);
        assertTrue(high > Executor.IMAGE_BY_IMAGE_BELOW, "googlenet: " + high);
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2));
             Executor thin3 = Executor.forInference(thin, cpu, 3);
             Executor thin1 = Executor.forInference(thin, cpu, 1);
             Executor plain3 = new Executor(thin, cpu, 3, Executor.Mode.INFERENCE);
             Executor dense2 = Executor.forInference(dense, cpu, 2);
             Executor reference3 = Executor.forInference(thin, ReferenceKernels.create(), 3)) {
            assertTrue(thin3.imageByImage());
            assertFalse(thin1.imageByImage(), "batch 1 is already one image");
            assertFalse(plain3.imageByImage(), "only the serving plan");
            assertFalse(dense2.imageByImage(), "a dense model keeps its batch");
            assertTrue(reference3.imageByImage(), "any host backend");
        }
    }

    @Test
    void imageByImageGivesThePlainPlansOutputs() {
        Graph g = thin();
        Tensor x = new Rng(9).uniform(Shape.of(5, 1, 28, 28));
        Tensor want;
        try (Executor plain = new Executor(g, ReferenceKernels.create(), 5, Executor.Mode.INFERENCE)) {
            want = plain.forwardToHost(x);
        }
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2));
             Executor serving = Executor.forInference(g, cpu, 5)) {
            assertTrue(serving.imageByImage());
            String inner = g.nodes().get(0).name();
            var e = org.junit.jupiter.api.Assertions.assertThrows(netslim.NetslimException.class,
                    () -> serving.activation(inner));
            assertTrue(e.getMessage().contains("image by image"), e.getMessage());
            for (int pass = 0; pass < 2; pass++) { // the output buffer is reused: every image rewritten
                Tensor got = serving.forwardToHost(x);
                assertEquals(want.shape(), got.shape());
                Close.assertClose(got, want, 1e-4, 1e-3, "image-by-image serving plan, pass " + pass);
            }
        }
    }

    /**
     * With two threads the images run two at a time, one batch-1 plan per thread, each image's ops single-threaded:
     * the same bits as one image at a time with each op on both threads, for batches that split evenly and not, over
     * passes that reuse every buffer; each lane's activations counted in the footprint.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3, 5, 8})
    void lanesGiveTheBitsOfOneImageAtATime(int batch) {
        Graph g = thin();
        Tensor x = new Rng(batch).uniform(Shape.of(batch, 1, 28, 28));
        boolean was = Executor.IMAGE_LANES;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            Executor.IMAGE_LANES = true;
            Executor lanes = Executor.forInference(g, cpu, batch);
            Executor.IMAGE_LANES = false;
            Executor serial = Executor.forInference(g, cpu, batch);
            try (lanes; serial; Executor one = Executor.forInference(g, cpu, 1)) {
                assertEquals(2, lanes.lanes());
                assertEquals(1, serial.lanes());
                long out = 4 * g.shapes(batch).get(g.outputName()).size();
                assertEquals(2 * one.activationBytes() + out, lanes.activationBytes());
                assertEquals(one.activationBytes() + out, serial.activationBytes());
                for (int pass = 0; pass < 2; pass++) {
                    Tensor want = serial.forwardToHost(x), got = lanes.forwardToHost(x);
                    assertArrayEquals(want.toArray(), got.toArray(), "batch " + batch + ", pass " + pass);
                }
            }
        } finally {
            Executor.IMAGE_LANES = was;
        }
    }

    /**
     * Each lane's images go through the backend on a worker thread, never the caller's, a lane's images all on one
     * thread: counted by the thread that uploads each image into a batch-1 plan. Batch 5 on two lanes: 2 and 3
     * images — on two workers, or on one when the other wakes late (the pool lets whichever worker is free take a
     * waiting lane, by design). Twenty passes: at least one must run on two workers.
     */
    @Test
    void eachLaneRunsItsShareOfTheImagesOnAWorkerOfItsOwn() {
        Graph g = thin();
        Map<Thread, Integer> uploads = new java.util.concurrent.ConcurrentHashMap<>();
        int onTwo = 0;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            netslim.backend.Backend counting = BackendProxy.wrap(cpu, (m, args) -> {
                if (m.getName().equals("upload")) uploads.merge(Thread.currentThread(), 1, Integer::sum);
                return BackendProxy.DELEGATE;
            });
            try (Executor serving = Executor.forInference(g, counting, 5)) {
                assertEquals(2, serving.lanes());
                Tensor x = new Rng(1).uniform(Shape.of(5, 1, 28, 28));
                for (int pass = 0; pass < 20; pass++) {
                    uploads.clear();
                    serving.forward(x);
                    assertFalse(uploads.containsKey(Thread.currentThread()), "an image ran on the caller: " + uploads);
                    for (Thread t : uploads.keySet()) {
                        assertTrue(t.getName().startsWith("netslim-cpu-"), "an image ran off the workers: " + t);
                    }
                    java.util.List<Integer> counts = uploads.values().stream().sorted().toList();
                    assertTrue(counts.equals(java.util.List.of(2, 3)) || counts.equals(java.util.List.of(5)),
                            "a lane's images split between threads: " + uploads);
                    if (counts.size() == 2) onTwo++;
                }
            }
        }
        assertTrue(onTwo > 0, "no pass of 20 ran its two lanes on two workers");
    }

    /** Also with two lanes: a timed pass runs its images on one (lanes' wall times would overlap). */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aNodeTimerGetsEachNodeOncePerPassSummedOverTheImages(int threads) {
        Graph g = thin();
        Tensor x = new Rng(3).uniform(Shape.of(4, 1, 28, 28));
        try (CpuBackend cpu = CpuBackend.create(threads, Gemm.select("java", threads));
             Executor serving = Executor.forInference(g, cpu, 4)) {
            assertTrue(serving.imageByImage());
            assertEquals(threads, serving.lanes());
            Map<String, Integer> calls = new HashMap<>();
            Map<String, Long> nanos = new HashMap<>();
            serving.setNodeTimer((n, t) -> {
                calls.merge(n.name(), 1, Integer::sum);
                nanos.merge(n.name(), t, Long::sum);
            });
            serving.forward(x);
            serving.forward(x);
            assertEquals(serving.graph().nodes().size(), calls.size());
            calls.forEach((name, c) -> assertEquals(2, c, name + " recorded " + c + " times in 2 passes"));
            assertTrue(nanos.values().stream().mapToLong(Long::longValue).sum() > 0);
        }
    }
}
