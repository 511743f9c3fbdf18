package netslim.backend;

import netslim.NetslimException;
import netslim.backend.cpu.CpuBackend;

/** Chooses a backend from the CLI's {@code --device cpu|cuda|auto}. */
public final class Backends {
    private Backends() {
    }

    /**
     * "cpu" → the CPU backend; "cuda" → the CUDA backend or a {@link NetslimException} when none works;
     * "auto" → CUDA when a device works, else the CPU. The choice is reported through {@code log}.
     */
    public static Backend select(String device, java.util.function.Consumer<String> log) {
        switch (device) {
            case "cpu":
                return CpuBackend.createDefault();
            case "cuda":
                throw new NetslimException("--device cuda: the CUDA backend is not built yet in this version of netslim");
            case "auto":
                log.accept("device: cpu (no CUDA backend in this build)");
                return CpuBackend.createDefault();
            default:
                throw new NetslimException("unknown device '" + device + "' (expected cpu, cuda or auto)");
        }
    }
}
