package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import netslim.backend.ConvSpec;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** What the parity suite does not cover: identity, thread safety of shared scratch, argument checks. */
class CpuBackendTest {

    @Test
    void identity() {
        try (CpuBackend b = CpuBackend.create(2, Gemm.select("java", 2))) {
            assertEquals("cpu", b.name());
            assertTrue(b.isHost());
            assertEquals(2, b.threads());
            assertEquals(Shape.of(2, 3), b.allocate(Shape.of(2, 3)).shape());
        }
    }

    /**
     * Four threads run different convolutions (batched small maps and per-image large maps, so both scratch
     * buffers are in use) on one backend at once; each must get exactly what it gets alone.
     */
    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        try (CpuBackend b = CpuBackend.create(2, Gemm.select("java", 1))) {
            int callers = 4;
            Tensor[] x = new Tensor[callers], w = new Tensor[callers], alone = new Tensor[callers];
            ConvSpec[] s = new ConvSpec[callers];
            Rng rng = new Rng(7);
            for (int t = 0; t < callers; t++) {
                int hw = t % 2 == 0 ? 6 : 26;
                s[t] = ConvSpec.of(3 + t, 4 + t, 3, 1, 1);
                x[t] = rng.uniform(Shape.of(3, s[t].inChannels(), hw, hw));
                w[t] = rng.uniform(Shape.of(s[t].outChannels(), s[t].inChannels(), 3, 3));
                alone[t] = Tensor.zeros(3, s[t].outChannels(), hw, hw);
                b.conv2d(x[t], w[t], null, alone[t], s[t]);
            }
            Tensor[] together = new Tensor[callers];
            Thread[] threads = new Thread[callers];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < callers; t++) {
                int id = t;
                together[t] = Tensor.zeros(alone[t].shape());
                threads[t] = new Thread(() -> {
                    try {
                        for (int rep = 0; rep < 10; rep++) b.conv2d(x[id], w[id], null, together[id], s[id]);
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) t.join();
            if (failure[0] != null) throw new AssertionError(failure[0]);
            for (int t = 0; t < callers; t++) assertArrayEquals(alone[t].toArray(), together[t].toArray(), "caller " + t);
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        try (CpuBackend b = CpuBackend.create(1, Gemm.select("java", 1))) {
            ConvSpec s = ConvSpec.of(3, 4, 3, 1, 1);
            Tensor x = Tensor.zeros(1, 3, 5, 5), w = Tensor.zeros(4, 3, 3, 3);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> b.conv2d(x, w, null, Tensor.zeros(1, 4, 4, 5), s));
            assertTrue(e.getMessage().contains("conv2d"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> b.add(x, Tensor.zeros(2, 3), Tensor.zeros(1, 3, 5, 5)));
        }
    }

    /** The products' GEMM per -Dnetslim.conv.products: auto, gemm, java; anything else is refused by name. */
    @Test
    void productsGemmFollowsTheSwitch() {
        Gemm blas = new OpenBlasGemm(2), java = new VectorGemm(2);
        assertTrue(CpuBackend.productsGemm(blas, "gemm") == blas, "gemm keeps the backend's GEMM");
        assertTrue(CpuBackend.productsGemm(blas, "java") instanceof VectorGemm, "java takes the Java kernel");
        assertTrue(CpuBackend.productsGemm(java, "auto") == java, "a Java backend keeps its own GEMM");
        assertEquals(VectorMicroKernel.MR == 8, CpuBackend.productsGemm(blas, "auto") instanceof VectorGemm,
                "auto: the Java kernel exactly where it has the 8-row AVX-512 tile");
        netslim.NetslimException e = assertThrows(netslim.NetslimException.class,
                () -> CpuBackend.create(1, blas, "fast"));
        assertTrue(e.getMessage().contains("netslim.conv.products") && e.getMessage().contains("'fast'"),
                e.getMessage());
    }
}
