package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CI check of native/*.cu: the build (native/build.sh, run by Maven) compiled every module with nvcc,
 * warnings as errors, into a classpath fatbin that names every kernel {@link CudaKernel} lists, and every .cu
 * file in native/ is one of those modules. Skipped (assumption) only when this machine has no nvcc, in which case
 * the build skipped the kernels on purpose and the backend reports itself unavailable.
 */
class NativeBuildTest {

    /** The nvcc native/build.sh would use, if any (same search order). */
    static Optional<Path> nvcc() {
        if ("1".equals(System.getenv("NETSLIM_NO_NVCC"))) return Optional.empty();
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("NVCC");
        if (env != null && !env.isEmpty()) candidates.add(Path.of(env));
        candidates.add(Path.of("/usr/local/bin/nvcc"));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty()) candidates.add(Path.of(dir, "nvcc"));
        }
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        return candidates.stream().filter(Files::isExecutable).findFirst();
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = NativeBuildTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " is not on the classpath: native/build.sh did not build it");
            return in.readAllBytes();
        }
    }

    @Test
    void everyKernelIsInItsFatbin() throws IOException {
        Assumptions.assumeTrue(nvcc().isPresent(), "no nvcc on this machine: the build skips the CUDA kernels");
        for (String module : CudaProbe.modules()) {
            // Fatbins are built uncompressed (build.sh), so each kernel's name appears verbatim in its ELF images.
            String image = new String(resource(CudaKernel.resource(module)), StandardCharsets.ISO_8859_1);
            for (CudaKernel k : CudaKernel.values()) {
                if (!k.module().equals(module)) continue;
                assertTrue(image.contains(k.symbol()), k.symbol() + " missing from " + CudaKernel.resource(module));
            }
        }
    }

    @Test
    void everyCudaSourceIsAModule() throws IOException {
        Path nativeDir = Path.of("native");
        Assumptions.assumeTrue(Files.isDirectory(nativeDir), "not run from the repository root");
        try (Stream<Path> files = Files.list(nativeDir)) {
            for (Path cu : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                String module = cu.getFileName().toString().replace(".cu", "");
                assertTrue(CudaProbe.modules().contains(module), cu + " defines no kernel the backend launches");
                String text = Files.readString(cu);
                String head = text.substring(0, Math.min(text.length(), 1500));
                assertTrue(head.contains("Java reference") && head.toLowerCase().contains("launch shape"),
                        cu + " must open with its launch shape and its Java reference");
            }
        }
    }
}
