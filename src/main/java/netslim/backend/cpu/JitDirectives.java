package netslim.backend.cpu;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.management.ObjectName;

/**
 * Compiler directives the CPU kernels need from HotSpot's C2, added once when {@link CpuBackend} or
 * {@link CpuWinograd} is first loaded (before any kernel is compiled) through the {@code Compiler.directives_add}
 * diagnostic command.
 *
 * <p>Why: C2 inlines a small hot method into its caller. Winograd's transform helpers ({@code at6}, {@code tileRow},
 * {@code bt6}) are small, their callers are not, and in about half of the JVMs started (it depends on the order in
 * which methods get compiled) the inlined vector operations of those helpers were not turned into vector
 * instructions (C2 hit its node budget: {@code NodeCountInliningCutoff}): every call then boxed its vectors,
 * allocating 2–5 MB per GoogLeNet pass and making a batch-1 pass up to 40 % slower for the whole life of the
 * process. Compiled on their own they always vectorise: with these helpers kept out of their callers, 0 JVMs of 8
 * boxed (against 4 of 8, then 2 of 4, without), at the same steady-state speed (bench/RESULTS.md, session 10).
 *
 * <p>{@code -Dnetslim.jit.directives=false} leaves the JIT alone. Where the diagnostic command does not exist (a
 * runtime without the {@code jdk.management} module, another VM) nothing is added and the kernels still compute the
 * same results; {@link #installed} says which.
 */
final class JitDirectives {
    /** Methods C2 must not inline into their callers (HotSpot's package/Class.method patterns). */
    static final String[] NOT_INLINED = {
        "netslim/backend/cpu/CpuWinograd.at6",
        "netslim/backend/cpu/CpuWinograd.tileRow",
        "netslim/backend/cpu/CpuWinograd.bt6",
        // the F(3x3, 4x4) weight gradient's transforms (session 18: inlined, they ran on the Vector API's fallback)
        "netslim/backend/cpu/CpuWinograd.a6",
        "netslim/backend/cpu/CpuWinograd.rowTimesG4",
        // the 8 x 32 tile (1x1 convs, the stem, the unfolded and Winograd products) and the 7x7 pointwise tiles:
        // the tile boxed its vectors in 1-4 JVMs of 8 (session 11: up to 2.9 MB per batch-1 pass)
        "netslim/backend/cpu/VectorMicroKernel.packed8Store",
        "netslim/backend/cpu/ChannelPointwise.tile3",
        "netslim/backend/cpu/ChannelPointwise.tile1",
        // the pure-Java GEMM's other tiles: the 8 x 32 strided one boxed in 2 JVMs of 6 (--gemm java training,
        // session 12)
        "netslim/backend/cpu/VectorMicroKernel.strided8Store",
        "netslim/backend/cpu/VectorMicroKernel.packed6Store",
        "netslim/backend/cpu/VectorMicroKernel.strided6Store",
        "netslim/backend/cpu/VectorMicroKernel.narrow6Store",
        "netslim/backend/cpu/VectorMicroKernel.narrow8Store",
    };

    private static final boolean INSTALLED = install();

    private JitDirectives() {
    }

    /** Whether the directives were added to this JVM. */
    static boolean installed() {
        return INSTALLED;
    }

    private static boolean install() {
        if ("false".equals(System.getProperty("netslim.jit.directives"))) return false;
        Path file = null;
        try {
            StringBuilder inline = new StringBuilder();
            for (String m : NOT_INLINED) inline.append(inline.length() == 0 ? "" : ", ").append("\"-").append(m).append('"');
            file = Files.createTempFile("netslim-jit-", ".json");
            Files.writeString(file, "[{ match: \"*.*\", inline: [" + inline + "] }]");
            Object out = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                    new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
            return String.valueOf(out).contains("1 compiler directives added");
        } catch (Throwable t) { // no such command here: the kernels run as they are
            System.getLogger(JitDirectives.class.getName()).log(System.Logger.Level.DEBUG,
                    "netslim: JIT directives not added: " + t);
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (java.io.IOException ignored) {
                    // a leftover temp file of a few bytes
                }
            }
        }
    }
}
