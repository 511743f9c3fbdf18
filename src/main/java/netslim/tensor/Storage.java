package netslim.tensor;

/**
 * Where a tensor's elements live. The host implementation wraps a {@code float[]}; a device backend (CUDA)
 * provides its own implementation holding a device pointer.
 */
public interface Storage {
    /** Capacity in float elements. */
    long capacity();

    /** True when {@link HostStorage#array()} can be used directly. */
    boolean isHost();
}
