package netslim.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import netslim.NetslimException;

/**
 * Loads the CUDA 12 → 13 forwarding shims (native/shim, README "CUDA backend") before JCuda's own JNI libraries.
 * JCublas 12.6 (the newest) links {@code libcublas.so.12}; CUDA 13 machines have {@code libcublas.so.13} with the
 * same functions. A shim with SONAME {@code libcublas.so.12}, loaded first with {@link System#load}, satisfies the
 * JNI library's dependency, and forwards each call to the CUDA 13 library (or to $NETSLIM_LIBCUBLAS, a full path).
 *
 * <p>Used when the driver is CUDA 13 or newer ({@code -Dnetslim.cuda.shim=auto}, the default), always with
 * {@code =on}, never with {@code =off} (a CUDA 12 machine with the real libraries).
 */
final class CudaShims {
    private CudaShims() {
    }

    private static boolean loaded;

    /** Loads the shims named (e.g. "libcublas.so.12") if the policy says so; once per JVM. */
    static synchronized void loadIfNeeded(int driverVersion, String... sonames) {
        if (loaded) return;
        String mode = System.getProperty("netslim.cuda.shim", "auto");
        boolean use = switch (mode) {
            case "on" -> true;
            case "off" -> false;
            case "auto" -> driverVersion >= 13000;
            default -> throw new NetslimException("-Dnetslim.cuda.shim must be auto, on or off, got '" + mode + "'");
        };
        loaded = true;
        if (!use) return;
        Path dir;
        try {
            dir = Files.createTempDirectory("netslim-shim");
            dir.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new NetslimException("cannot create a folder for the CUDA shims: " + e.getMessage());
        }
        for (String soname : sonames) System.load(extract(soname, dir).toString());
    }

    private static Path extract(String soname, Path dir) {
        String res = "/native/shim/" + soname;
        try (InputStream in = CudaShims.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new NetslimException("the CUDA 12 -> 13 shim " + res + " is not in this build (gcc was missing)");
            }
            Path p = dir.resolve(soname);
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new NetslimException("cannot extract the CUDA shim " + res + ": " + e.getMessage());
        }
    }
}
