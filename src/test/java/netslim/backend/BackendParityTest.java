package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.backend.cuda.CudaBackend;
import netslim.testing.Close;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The one parity suite: every {@link ParityCase} runs on every backend under test and on {@link ReferenceKernels},
 * and each kept output must agree within the case's atol + rtol·|ref|. Host backends run in the default build;
 * device backends go into {@link #BACKENDS} with {@code gpu = true} and run only in the {@code gpu}-tagged test.
 */
class BackendParityTest {

    /** A backend to test: a name for reports, how to create it, and whether it needs a GPU. */
    record BackendUnderTest(String name, Supplier<Backend> factory, boolean gpu) {
        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * The backends under test. CUDA runs twice: plain, and with every forward output poisoned with NaN before the
     * op ({@link PoisoningBackend}), so an element a kernel forgets to write fails the comparison; and with the
     * per-image weight-gradient path instead of the default batched one. TF32 is not
     * here: its ~1e-3 relative GEMM error is checked at model level (CudaModelParityTest).
     */
    static final List<BackendUnderTest> BACKENDS = List.of(
            cpu("openblas", 1), cpu("openblas", 2), cpu("java", 1), cpu("java", 2), cpuOtherProducts(),
            new BackendUnderTest("cuda/fp32", () -> CudaBackend.create(new CudaBackend.Options(false, true)), true),
            new BackendUnderTest("cuda/fp32/poisoned", () -> new PoisoningBackend(CudaBackend.create(new CudaBackend.Options(false, true))), true),
            new BackendUnderTest("cuda/fp32/per-image-dw",
                    () -> CudaBackend.create(new CudaBackend.Options(false, false)), true));

    private static BackendUnderTest cpu(String gemm, int threads) {
        return new BackendUnderTest("cpu/" + gemm + "/" + threads + "t",
                () -> CpuBackend.create(threads, Gemm.select(gemm, threads)), false);
    }

    /**
     * OpenBLAS with the Winograd and stem products on the GEMM the automatic rule does not pick on this machine
     * (OpenBLAS itself on AVX-512, the Java kernel on AVX2), so both product paths are checked everywhere.
     */
    private static BackendUnderTest cpuOtherProducts() {
        String other = CpuBackend.autoJavaProducts() ? "gemm" : "java";
        return new BackendUnderTest("cpu/openblas/2t/products=" + other,
                () -> CpuBackend.create(2, Gemm.select("openblas", 2), other), false);
    }

    private static final long SEED = 20240611L;
    private static final Backend REFERENCE = ReferenceKernels.create();
    private static final Map<String, Map<String, float[]>> EXPECTED = new ConcurrentHashMap<>();
    private static final Map<String, Backend> INSTANCES = new ConcurrentHashMap<>();

    /** Every case of the suite, conv family first. */
    static List<ParityCase> cases() {
        List<ParityCase> all = new ArrayList<>(ConvParityCases.all());
        all.addAll(OpParityCases.all());
        return all;
    }

    static Stream<Arguments> hostCases() {
        return matrix(false);
    }

    static Stream<Arguments> deviceCases() {
        return matrix(true);
    }

    private static Stream<Arguments> matrix(boolean gpu) {
        List<ParityCase> cases = cases();
        return BACKENDS.stream().filter(b -> b.gpu() == gpu)
                .flatMap(b -> cases.stream().map(c -> Arguments.of(b, c)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("hostCases")
    void hostBackendMatchesReference(BackendUnderTest backend, ParityCase c) {
        check(backend, c);
    }

    @Tag("gpu")
    @ParameterizedTest(name = "{0}: {1}", allowZeroInvocations = true)
    @MethodSource("deviceCases")
    void deviceBackendMatchesReference(BackendUnderTest backend, ParityCase c) {
        // The only skip in the suite: a gpu-tagged run on a machine without a working CUDA device.
        Assumptions.assumeTrue(CudaBackend.probe().available(), () -> "no CUDA device: " + CudaBackend.probe().reason());
        check(backend, c);
    }

    private static void check(BackendUnderTest backend, ParityCase c) {
        Map<String, float[]> expected = EXPECTED.computeIfAbsent(c.name(), k -> c.run(REFERENCE, SEED));
        Backend b = INSTANCES.computeIfAbsent(backend.name(), k -> backend.factory().get());
        Map<String, float[]> actual = c.run(b, SEED);
        assertEquals(expected.keySet(), actual.keySet(), c.name() + ": kept outputs");
        for (var e : expected.entrySet()) {
            Close.assertClose(actual.get(e.getKey()), e.getValue(), c.atol(), c.rtol(),
                    backend.name() + " / " + c.name() + " / " + e.getKey());
        }
    }

    @AfterAll
    static void closeBackends() {
        INSTANCES.values().forEach(Backend::close);
        INSTANCES.clear();
    }
}
