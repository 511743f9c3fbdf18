package netslim.backend;

import java.util.function.Consumer;

import netslim.NetslimException;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cuda.CudaBackend;
import netslim.backend.cuda.CudaProbe;

/** Chooses a backend from the CLI's {@code --device cpu|cuda|auto}. */
public final class Backends {
    private Backends() {
    }

    /** {@link #select(String, boolean, Consumer)} with FP32 GEMMs on the GPU. */
    public static Backend select(String device, Consumer<String> log) {
        return select(device, false, log);
    }

    /**
     * "cpu" → the CPU backend; "cuda" → the CUDA backend or a one-line {@link NetslimException}
     * "no CUDA device: reason" when none works; "auto" → CUDA when a device works (and the backend starts), else
     * the CPU. The choice (and
     * for auto without a GPU, the reason) is reported through {@code log}. {@code tf32} lets cuBLAS use TF32 tensor
     * cores (GPU only).
     */
    public static Backend select(String device, boolean tf32, Consumer<String> log) {
        switch (device) {
            case "cpu":
                return CpuBackend.createDefault();
            case "cuda": {
                Backend b = CudaBackend.create(tf32);
                log.accept("device: " + b);
                return b;
            }
            case "auto": {
                CudaProbe.Result r = CudaBackend.probe();
                if (r.available()) {
                    try {
                        Backend b = CudaBackend.create(tf32);
                        log.accept("device: " + b);
                        return b;
                    } catch (NetslimException e) {
                        log.accept("device: cpu (the CUDA backend failed to start: " + e.getMessage() + ")");
                        return CpuBackend.createDefault();
                    }
                }
                log.accept("device: cpu (no CUDA device: " + r.reason() + ")");
                return CpuBackend.createDefault();
            }
            default:
                throw new NetslimException("unknown device '" + device + "' (expected cpu, cuda or auto)");
        }
    }
}
