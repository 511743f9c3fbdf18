package netslim.backend.cuda;

import java.lang.reflect.Field;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import netslim.tensor.Tensor;

/**
 * Kernel parameters for {@link CudaContext#launch}: each is a host pointer to the argument's bytes.
 *
 * <p>Device pointers are passed as their 64-bit address value, not as {@code Pointer.to(devicePointer)}: JCuda's
 * JNI code builds a kernel-parameter array from each inner pointer's base address and silently drops a
 * {@code withByteOffset} offset there (PointerUtils.cpp, initPointerData: {@code localPointer[i] =
 * localPointerData->startPointer}), which would make every tensor view at a non-zero offset read its storage's
 * first element. cuBLAS and memcpy calls do honour the offset (getPointer adds it).
 */
final class KernelArgs {
    private KernelArgs() {
    }

    private static final Field NATIVE_POINTER = field(NativePointerObject.class, "nativePointer");
    private static final Field BYTE_OFFSET = field(Pointer.class, "byteOffset");

    private static Field field(Class<?> c, String name) {
        try {
            Field f = c.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("JCuda changed: no field " + c.getName() + "." + name, e);
        }
    }

    /** The address a JCuda pointer denotes: its native pointer plus its byte offset. */
    static long address(Pointer p) {
        try {
            return NATIVE_POINTER.getLong(p) + BYTE_OFFSET.getLong(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A tensor's device address (storage base + offset), by value. */
    static Pointer ptr(Tensor t) {
        return l(CudaStorage.of(t).address(t.offset()));
    }

    /** A tensor's device address, or a null device pointer for a null tensor (an optional output). */
    static Pointer ptrOrNull(Tensor t) {
        return t == null ? l(0L) : ptr(t);
    }

    /** A raw device pointer (a scratch buffer, possibly with a byte offset), by value. */
    static Pointer dev(Pointer devicePointer) {
        return l(address(devicePointer));
    }

    static Pointer i(int v) {
        return Pointer.to(new int[] {v});
    }

    static Pointer f(float v) {
        return Pointer.to(new float[] {v});
    }

    /** A 64-bit integer ({@code long long}, {@code unsigned long long} or a device address). */
    static Pointer l(long v) {
        return Pointer.to(new long[] {v});
    }

    /** A struct of ints passed by value (ConvGeom, PoolGeom in native/common.cuh). */
    static Pointer struct(int... fields) {
        return Pointer.to(fields);
    }
}
