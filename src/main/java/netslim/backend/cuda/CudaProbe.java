package netslim.backend.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * Whether a CUDA device works here, asked once per JVM and cached. Without a driver, JCuda's class initialiser
 * throws {@link UnsatisfiedLinkError} (libcuda.so.1 missing) and the class is unusable afterwards, so the probe
 * catches every {@link Throwable} and turns it into a one-line reason (GPU.md, "Without a GPU").
 */
public final class CudaProbe {
    private CudaProbe() {
    }

    /** The answer: available, or a one-line reason why not; the device's description when available. */
    public record Result(boolean available, String reason, String device, int driverVersion) {
        static Result unavailable(String reason) {
            return new Result(false, reason, "", 0);
        }
    }

    private static Result cached;

    /** Probes (first call only) and returns the cached answer. */
    public static synchronized Result probe() {
        if (cached == null) cached = probeOnce();
        return cached;
    }

    private static Result probeOnce() {
        for (String module : modules()) {
            if (CudaProbe.class.getResource(CudaKernel.resource(module)) == null) {
                return Result.unavailable("this build has no CUDA kernels (" + CudaKernel.resource(module)
                        + " missing: nvcc was not found when netslim was built)");
            }
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int rc = cuInit(0);
            if (rc != 0) return Result.unavailable("cuInit failed: " + CudaContext.errorName(rc));
            int[] count = {0};
            rc = cuDeviceGetCount(count);
            if (rc != 0 || count[0] == 0) return Result.unavailable("the CUDA driver reports no device");
            CUdevice dev = new CUdevice();
            CudaContext.check(cuDeviceGet(dev, 0), "cuDeviceGet");
            byte[] name = new byte[256];
            CudaContext.check(cuDeviceGetName(name, name.length, dev), "cuDeviceGetName");
            long[] mem = {0};
            CudaContext.check(cuDeviceTotalMem(mem, dev), "cuDeviceTotalMem");
            int[] version = {0};
            CudaContext.check(cuDriverGetVersion(version), "cuDriverGetVersion");
            String n = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
            String desc = String.format("%s, %.0f GiB, driver CUDA %d.%d", n, mem[0] / (double) (1L << 30),
                    version[0] / 1000, version[0] % 1000 / 10);
            return new Result(true, "", desc, version[0]);
        } catch (Throwable t) {
            return Result.unavailable(describe(t));
        }
    }

    /** The .cu modules the kernels live in. */
    static Set<String> modules() {
        Set<String> m = new TreeSet<>();
        for (CudaKernel k : CudaKernel.values()) m.add(k.module());
        return m;
    }

    /** One line from a loader failure: the dynamic linker's own words when present (JCuda nests them deep). */
    static String describe(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        for (String line : msg.split("\n")) {
            int at = line.indexOf("cannot open shared object file");
            if (at >= 0) {
                // "...: /tmp/libJCudaDriver-...so: libcuda.so.1: cannot open shared object file: No such file..."
                String before = line.substring(0, at).replaceAll(":\\s*$", "");
                String lib = before.substring(before.lastIndexOf(' ') + 1);
                return "cannot load the CUDA driver: " + lib + ": " + line.substring(at).trim();
            }
        }
        if (t instanceof LinkageError) {
            return "cannot load the CUDA driver library (" + msg.lines().findFirst().orElse("").trim() + ")";
        }
        return t.getClass().getSimpleName().replace("Exception", "error") + ": " + msg.lines().findFirst().orElse("");
    }
}
