package netslim.cli;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.Backends;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import picocli.CommandLine.Option;

/** --device, --tf32, --threads and --gemm. */
final class DeviceOptions {
    @Option(names = "--device", paramLabel = "D", defaultValue = "auto",
            description = "cpu, cuda or auto (default: cuda when a GPU works, else cpu).")
    String device;

    @Option(names = "--tf32", description = "On the GPU, let cuBLAS use TF32 tensor cores (faster, ~1e-3 relative error).")
    boolean tf32;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "CPU threads (default: all cores).")
    int threads;

    @Option(names = "--gemm", paramLabel = "G", defaultValue = "auto",
            description = "CPU GEMM: openblas, java or auto (OpenBLAS when its native library loads, else Java).")
    String gemm;

    Backend open() {
        if (threads < 0) throw new NetslimException("--threads must be ≥ 0, got " + threads);
        String d = device;
        if (d.equals("auto") || d.equals("cuda")) {
            Backend b = Backends.select(d, tf32, msg -> System.err.println("netslim: " + msg));
            if (!"cpu".equals(b.name())) return b;
            b.close();
        } else if (!d.equals("cpu")) {
            throw new NetslimException("unknown --device '" + d + "' (expected cpu, cuda or auto)");
        }
        int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return CpuBackend.create(t, Gemm.select(gemm, t));
    }
}
