package netslim.backend.cuda;

import jcuda.driver.CUdeviceptr;
import netslim.tensor.Storage;
import netslim.tensor.Tensor;

/** Device memory of the CUDA backend: a device pointer and a capacity in floats. Freed by the backend. */
final class CudaStorage implements Storage {
    private final CUdeviceptr base;
    private final long baseAddress; // the device address, for kernel arguments (see KernelArgs)
    private final long capacity;

    CudaStorage(CUdeviceptr base, long capacity) {
        this.base = base;
        this.baseAddress = KernelArgs.address(base);
        this.capacity = capacity;
    }

    /** The storage of a CUDA tensor; a host tensor here is a caller bug. */
    static CudaStorage of(Tensor t) {
        if (!(t.storage() instanceof CudaStorage s)) {
            throw new IllegalArgumentException("tensor " + t.shape() + " is not a CUDA tensor: upload it first");
        }
        return s;
    }

    /** Device address of float element {@code offset}. */
    CUdeviceptr at(long offset) {
        return offset == 0 ? base : base.withByteOffset(offset * Float.BYTES);
    }

    /** Device address of float element {@code offset}, as a number. */
    long address(long offset) {
        return baseAddress + offset * Float.BYTES;
    }

    CUdeviceptr base() {
        return base;
    }

    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public boolean isHost() {
        return false;
    }
}
