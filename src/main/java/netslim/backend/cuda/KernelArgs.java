package netslim.backend.cuda;

import jcuda.Pointer;
import netslim.tensor.Tensor;

/** Kernel parameters for {@link CudaContext#launch}: each is a host pointer to the argument's bytes. */
final class KernelArgs {
    private KernelArgs() {
    }

    /** A tensor's device address (storage base + offset). */
    static Pointer ptr(Tensor t) {
        return Pointer.to(CudaStorage.of(t).at(t.offset()));
    }

    /** A tensor's device address, or a null device pointer for a null tensor (an optional output). */
    static Pointer ptrOrNull(Tensor t) {
        return t == null ? Pointer.to(new long[] {0L}) : ptr(t);
    }

    static Pointer i(int v) {
        return Pointer.to(new int[] {v});
    }

    static Pointer f(float v) {
        return Pointer.to(new float[] {v});
    }

    /** A 64-bit integer ({@code long long} or {@code unsigned long long}). */
    static Pointer l(long v) {
        return Pointer.to(new long[] {v});
    }

    /** A struct of ints passed by value (ConvGeom, PoolGeom in native/common.cuh). */
    static Pointer struct(int... fields) {
        return Pointer.to(fields);
    }
}
