package netslim.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/**
 * Creating a CPU backend adds the directive that keeps C2 from inlining the vector kernels (Winograd's transform
 * helpers, the 8 x 32 tile, the 7x7 pointwise tiles) into their big callers (see {@link JitDirectives}); this JVM
 * (HotSpot with jdk.management, as the build and CI run) has the diagnostic command, so it must be there.
 */
class JitDirectivesTest {
    @Test
    void vectorKernelsAreKeptOutOfTheirCallers() throws Exception {
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            assertTrue(cpu.name().startsWith("cpu"));
        }
        assertTrue(JitDirectives.installed(), "directives added");
        String printed = String.valueOf(ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesPrint",
                new Object[] {new String[0]}, new String[] {String[].class.getName()}));
        for (String m : JitDirectives.NOT_INLINED) {
            assertTrue(printed.contains("-" + m), m + " not inlined, in:\n" + printed);
        }
    }
}
