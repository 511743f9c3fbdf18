package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA 12 → 13 forwarding shims (native/shim), checked without a GPU: a shim built by make-shim.sh against a
 * FAKE target library (two of three names present) forwards calls with their arguments and results, returns
 * NOT_SUPPORTED for the missing name and for every name when the target cannot be opened; and the real
 * libcublas.so.12 shim from the build satisfies every import of JCublas2's JNI library, with symbol versions,
 * under RTLD_NOW (which fails on any unresolved symbol).
 */
class ShimTest {

    @TempDir
    Path dir;

    /** Runs a command; returns stdout+stderr; fails on a non-zero exit. */
    private static String run(List<String> cmd, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        assertEquals(0, rc, String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private static Path makeShim() {
        Path p = Path.of("native/shim/make-shim.sh");
        assertTrue(Files.isExecutable(p), "run from the repository root: " + p.toAbsolutePath());
        return p;
    }

    private Path buildFakeTargetAndShim() throws IOException, InterruptedException {
        Path fake = write("fake.c", """
                int cublasCreate_v2(void **handle) { *handle = (void *) 0x1234; return 0; }
                int cublasGetVersion_v2(void *handle, int *version) {
                    *version = handle == (void *) 0x1234 ? 130100 : -1;
                    return 0;
                }
                """);
        run(List.of("gcc", "-shared", "-fPIC", "-o", dir.resolve("libfakeblas.so.13").toString(), fake.toString()),
                Map.of());
        Path symbols = write("fake.symbols", "# test list\ncublasCreate_v2\ncublasGetVersion_v2\ncublasSgemm_v2\n");
        run(List.of("bash", makeShim().toString(), symbols.toString(), "libcublas.so.12", "libnotthere.so.13",
                "NETSLIM_TEST_FAKEBLAS", "15", dir.resolve("shim").toString()), Map.of());
        Path client = write("client.c", """
                #include <stdio.h>
                int cublasCreate_v2(void **handle);
                int cublasGetVersion_v2(void *handle, int *version);
                int cublasSgemm_v2(void);
                int main(void) {
                    void *h = 0;
                    int version = 0;
                    int created = cublasCreate_v2(&h);
                    int got = cublasGetVersion_v2(h, &version);
                    printf("create=%d version=%d/%d sgemm=%d\\n", created, got, version, cublasSgemm_v2());
                    return 0;
                }
                """);
        Path exe = dir.resolve("client");
        run(List.of("gcc", "-o", exe.toString(), client.toString(), "-L" + dir.resolve("shim"),
                "-l:libcublas.so.12"), Map.of());
        return exe;
    }

    @Test
    void forwardsToTheFakeTargetAndReportsMissingNames() throws Exception {
        Path exe = buildFakeTargetAndShim();
        String out = run(List.of(exe.toString()), Map.of("LD_LIBRARY_PATH", dir.resolve("shim").toString(),
                "NETSLIM_TEST_FAKEBLAS", dir.resolve("libfakeblas.so.13").toString()));
        assertEquals("create=0 version=0/130100 sgemm=15", out.strip());
    }

    @Test
    void everyNameIsNotSupportedWhenTheTargetIsMissing() throws Exception {
        Path exe = buildFakeTargetAndShim();
        String out = run(List.of(exe.toString()), Map.of("LD_LIBRARY_PATH", dir.resolve("shim").toString()));
        assertEquals("create=15 version=15/0 sgemm=15", out.strip());
    }

    @Test
    void shimSymbolsCarryTheCuda12Version() throws Exception {
        buildFakeTargetAndShim();
        String syms = run(List.of("readelf", "--dyn-syms", "-W", dir.resolve("shim/libcublas.so.12").toString()),
                Map.of());
        assertTrue(syms.contains("cublasSgemm_v2@@libcublas.so.12"), syms);
        String dyn = run(List.of("readelf", "-d", dir.resolve("shim/libcublas.so.12").toString()), Map.of());
        assertTrue(dyn.contains("Library soname: [libcublas.so.12]"), dyn);
    }

    private Path classpathFile(String resource, String name) throws IOException {
        try (InputStream in = ShimTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, resource + " is not on the classpath");
            Path p = dir.resolve(name);
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
            return p;
        }
    }

    @Test
    void builtCublasShimSatisfiesJCublas2() throws Exception {
        Path shim = classpathFile("/native/shim/libcublas.so.12", "libcublas.so.12");
        Path jni = classpathFile("/lib/libJCublas2-12.6.0-linux-x86_64.so", "libJCublas2.so");
        Path loader = write("loader.c", """
                #include <dlfcn.h>
                #include <stdio.h>
                int main(int argc, char **argv) {
                    if (argc < 3) return 2;
                    void *shim = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
                    if (!shim) { printf("shim: %s\\n", dlerror()); return 1; }
                    void *jni = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
                    if (!jni) { printf("jni: %s\\n", dlerror()); return 1; }
                    int (*missing)(void) = (int (*)(void)) dlsym(shim, "netslim_shim_missing");
                    printf("resolved, %d names without a target\\n", missing ? missing() : -1);
                    return 0;
                }
                """);
        Path exe = dir.resolve("loader");
        run(List.of("gcc", "-o", exe.toString(), loader.toString(), "-ldl"), Map.of());
        String out = run(List.of(exe.toString(), shim.toString(), jni.toString()), Map.of());
        assertTrue(out.startsWith("resolved"), out);
        List<String> listed = new ArrayList<>(Files.readAllLines(Path.of("native/shim/cublas.symbols")));
        listed.removeIf(s -> s.isBlank() || s.startsWith("#"));
        assertEquals(494, listed.size(), "JCublas2 12.6.0 imports 494 cuBLAS functions (GPU.md)");
    }
}
