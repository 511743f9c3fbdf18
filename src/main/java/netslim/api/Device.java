package netslim.api;

/**
 * Where a {@link NetslimModel} runs. {@code CPU}: netslim's multi-threaded CPU backend. {@code CUDA}: the first
 * NVIDIA GPU, or a one-line {@link netslim.NetslimException} ("no CUDA device: reason") at load time when none
 * works. {@code AUTO}: CUDA when a GPU works, else the CPU ({@link NetslimModel#device()} says which).
 *
 * <pre>{@code
 * try (NetslimModel m = NetslimModel.load(Path.of("model.onnx"), Device.CPU)) { ... }
 * }</pre>
 */
public enum Device {
    CPU, CUDA, AUTO
}
