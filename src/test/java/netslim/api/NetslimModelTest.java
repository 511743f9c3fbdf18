package netslim.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cuda.CudaBackend;
import netslim.io.Nsm;
import netslim.io.OnnxExporter;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** The embedding API: same logits as the engine, thread safety, input checks, lifecycle and load errors. */
class NetslimModelTest {
    @TempDir
    static Path dir;

    static Graph graph;
    static Path nsm;
    static Path onnx;

    /**
     * A small googlenet-cifar (width 1/16, 1x8x8, so that 8000 predictions stay quick) with non-trivial BatchNorm
     * statistics, saved as .nsm and .onnx.
     */
    @BeforeAll
    static void model() {
        graph = Zoo.create("googlenet-cifar", new Zoo.Options(10, Shape.of(1, 8, 8), 0.0625, 3));
        Rng rng = new Rng(17);
        graph.params().values().forEach((name, t) -> {
            boolean bn = graph.node(name.substring(0, name.lastIndexOf('.'))).layer() instanceof Layer.BatchNorm2d;
            if (bn && (name.endsWith(".weight") || name.endsWith(".running_var"))) rng.fillUniform(t, 0.5f, 1.5f);
            else if (bn) rng.fillUniform(t, -0.5f, 0.5f);
        });
        nsm = dir.resolve("gc.nsm");
        onnx = dir.resolve("gc.onnx");
        Nsm.save(graph, nsm);
        OnnxExporter.export(graph, onnx);
    }

    static float[] images(int batch, long seed) {
        return new Rng(seed).uniform(Shape.of(batch, 1, 8, 8)).toArray();
    }

    @Test
    void predictsTheEnginesLogitsFromNsmAndOnnx() {
        float[] x = images(3, 1);
        Tensor expected;
        try (CpuBackend b = CpuBackend.createDefault(); Executor ex = new Executor(graph, b, 3, Executor.Mode.INFERENCE)) {
            expected = ex.forwardToHost(Tensor.of(Shape.of(3, 1, 8, 8), x.clone()));
        }
        for (Path file : List.of(nsm, onnx)) {
            try (NetslimModel m = NetslimModel.load(file, Device.CPU)) {
                assertEquals(Shape.of(1, 8, 8), m.inputShape());
                assertEquals(10, m.numClasses());
                float[] y = m.predict(x, 3);
                // BatchNorm folding (at load, or in the ONNX file) only changes float rounding
                Close.assertClose(y, expected.toArray(), 1e-5, 1e-4, file.getFileName().toString());
                Tensor t = m.predict(Tensor.of(Shape.of(3, 1, 8, 8), x));
                assertEquals(Shape.of(3, 10), t.shape());
                assertArrayEquals(y, t.toArray(), "float[] and Tensor entry points agree exactly");
            }
        }
        try (NetslimModel unfolded = NetslimModel.of(graph, Device.CPU, new NetslimModel.Options(0, false))) {
            // The engine's numbers up to the summation order: this thin model's serving plan runs image by image
            // (Executor#imageByImage), its products of one image rounding differently from the batch-3 plain plan's.
            Close.assertClose(unfolded.predict(x, 3), expected.toArray(), 1e-6, 1e-6, "without folding");
        }
    }

    /** 16 threads × 500 predictions on one model, batch sizes 1 and 2 mixed, equal bit for bit to one thread's. */
    @Test
    void concurrentPredictionsAreBitIdenticalToSingleThreaded() throws Exception {
        int threads = 16, calls = 500;
        int[] batches = {1, 2, 1, 2, 1, 1};
        try (NetslimModel m = NetslimModel.load(nsm, Device.CPU)) {
            float[][] inputs = new float[batches.length][];
            float[][] expected = new float[batches.length][];
            for (int i = 0; i < batches.length; i++) {
                inputs[i] = images(batches[i], 100 + i);
                expected[i] = m.predict(inputs[i], batches[i]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            AtomicInteger mismatches = new AtomicInteger();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int offset = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int c = 0; c < calls; c++) {
                        int i = (c + offset) % batches.length;
                        if (!java.util.Arrays.equals(m.predict(inputs[i], batches[i]), expected[i])) {
                            mismatches.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) f.get();
            pool.shutdown();
            assertEquals(0, mismatches.get(), "predictions that differ from the single-threaded ones");
            assertTrue(m.executors() >= 2, "executors: one per concurrent call and batch size, got " + m.executors());
            assertTrue(m.executors() <= 2 * threads, "the pool reuses executors, got " + m.executors());
        }
    }

    @Test
    void wrongInputSizesAreClearErrors() {
        try (NetslimModel m = NetslimModel.load(nsm, Device.CPU)) {
            NetslimException e = assertThrows(NetslimException.class, () -> m.predict(new float[100], 2));
            assertEquals("gc.nsm: input has 100 floats, but a batch of 2 images of 1x8x8 needs 128 (2 x 64)",
                    e.getMessage());
            assertThrows(NetslimException.class, () -> m.predict(new float[64], 0));
            assertThrows(NetslimException.class, () -> m.predict((float[]) null, 1));
            NetslimException t = assertThrows(NetslimException.class, () -> m.predict(Tensor.zeros(2, 3, 8, 8)));
            assertTrue(t.getMessage().contains("2x3x8x8") && t.getMessage().contains("Nx1x8x8"), t.getMessage());
            assertThrows(NetslimException.class, () -> m.topK(images(1, 2), 11));
        }
    }

    @Test
    void topKIsSortedWithSoftmaxProbabilities() {
        try (NetslimModel m = NetslimModel.load(onnx, Device.CPU)) {
            float[] x = images(2, 5);
            float[] logits = m.predict(x, 2);
            List<List<Prediction>> top = m.topK(x, 2, 10);
            for (int i = 0; i < 2; i++) {
                List<Prediction> p = top.get(i);
                double sum = 0;
                for (int r = 0; r < 10; r++) {
                    sum += p.get(r).probability();
                    assertEquals(logits[i * 10 + p.get(r).classIndex()], p.get(r).logit());
                    if (r > 0) assertTrue(p.get(r - 1).logit() >= p.get(r).logit(), "sorted, highest first");
                }
                assertEquals(1.0, sum, 1e-5);
            }
            // one image: its batch-1 logits (another batch size may differ in the last bits: other GEMM blocking)
            float[] first = java.util.Arrays.copyOf(x, 64);
            assertEquals(Prediction.topK(m.predict(first, 1), 0, 10, 3), m.topK(first, 3));
        }
    }

    @Test
    void closeThenPredictIsAClearError() {
        NetslimModel m = NetslimModel.load(nsm, Device.CPU);
        m.predict(images(1, 1), 1);
        m.close();
        m.close(); // idempotent
        NetslimException e = assertThrows(NetslimException.class, () -> m.predict(images(1, 1), 1));
        assertEquals("gc.nsm: the model is closed", e.getMessage());
    }

    /** Closing while other threads predict: each call either completes normally or says the model is closed. */
    @Test
    void closeWhilePredictingFinishesOrRefusesCalls() throws Exception {
        NetslimModel m = NetslimModel.load(nsm, Device.CPU);
        float[] x = images(1, 9);
        float[] expected = m.predict(x, 1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicInteger completed = new AtomicInteger(), refused = new AtomicInteger();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            done.add(pool.submit(() -> {
                for (int c = 0; c < 200; c++) {
                    try {
                        assertArrayEquals(expected, m.predict(x, 1));
                        completed.incrementAndGet();
                    } catch (NetslimException e) {
                        assertEquals("gc.nsm: the model is closed", e.getMessage());
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        // Wait for some completions, but not forever: if every task failed, get() below reports why.
        while (completed.get() < 8 && !done.stream().allMatch(Future::isDone)) Thread.onSpinWait();
        m.close();
        for (Future<?> f : done) f.get();
        pool.shutdown();
        assertEquals(800, completed.get() + refused.get());
        assertTrue(refused.get() > 0 && completed.get() >= 8, completed + " completed, " + refused + " refused");
    }

    @ParameterizedTest
    @ValueSource(strings = {"corrupt.nsm", "corrupt.onnx", "model.bin", "missing.nsm"})
    void badFilesNameTheFile(String file) throws IOException {
        Path p = dir.resolve(file);
        if (!file.startsWith("missing")) Files.write(p, new byte[] {0x50, 0x4b, 3, 4, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7});
        NetslimException e = assertThrows(NetslimException.class, () -> NetslimModel.load(p, Device.CPU));
        assertTrue(e.getMessage().contains(file), e.getMessage());
    }

    @Test
    void truncatedOnnxFileNamesTheFile() throws IOException {
        byte[] full = Files.readAllBytes(onnx);
        Path p = dir.resolve("truncated.onnx");
        Files.write(p, java.util.Arrays.copyOf(full, full.length / 2));
        NetslimException e = assertThrows(NetslimException.class, () -> NetslimModel.load(p, Device.AUTO));
        assertTrue(e.getMessage().contains("truncated.onnx"), e.getMessage());
    }

    @Test
    void cudaWithoutAGpuIsAClearErrorAndAutoFallsBackToTheCpu() {
        assumeFalse(CudaBackend.probe().available(), "a GPU works here");
        NetslimException e = assertThrows(NetslimException.class, () -> NetslimModel.load(nsm, Device.CUDA));
        assertTrue(e.getMessage().startsWith("no CUDA device: "), e.getMessage());
        try (NetslimModel m = NetslimModel.load(nsm, Device.AUTO, new NetslimModel.Options(1, true))) {
            assertTrue(m.device().startsWith("cpu (1 threads"), m.device());
        }
    }
}
