package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;

import jcuda.NativePointerObject;
import jcuda.driver.CUdeviceptr;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Device addresses handed to kernels include the tensor's offset (JCuda drops withByteOffset offsets inside kernel
 * parameter arrays, so KernelArgs passes addresses by value). Runs without a GPU: no CUDA call is made.
 */
class KernelArgsTest {

    private static CUdeviceptr fakeDevicePointer(long address) throws ReflectiveOperationException {
        CUdeviceptr p = new CUdeviceptr();
        Field f = NativePointerObject.class.getDeclaredField("nativePointer");
        f.setAccessible(true);
        f.setLong(p, address);
        return p;
    }

    @Test
    void addressesIncludeOffsets() throws ReflectiveOperationException {
        CUdeviceptr base = fakeDevicePointer(0x7f0000001000L);
        assertEquals(0x7f0000001000L, KernelArgs.address(base));
        assertEquals(0x7f0000001010L, KernelArgs.address(base.withByteOffset(16)));
        CudaStorage s = new CudaStorage(base, 100);
        Tensor view = new Tensor(Shape.of(2, 5), s, 7);
        assertEquals(0x7f0000001000L + 7 * 4, CudaStorage.of(view).address(view.offset()));
        assertEquals(0x7f0000001000L + 9 * 4, KernelArgs.address(s.at(9)));
    }
}
