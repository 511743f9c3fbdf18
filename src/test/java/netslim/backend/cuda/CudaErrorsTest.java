package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import jcuda.driver.CUresult;
import jcuda.jcublas.cublasStatus;

/**
 * The messages of failed CUDA calls, checked without a GPU (the codes are what the driver would return): out of
 * memory suggests a smaller --batch; a lost device says the run stops and that nothing falls back to the CPU.
 */
class CudaErrorsTest {
    @org.junit.jupiter.api.Test
    void outOfMemoryNamesTheCallAndSuggestsASmallerBatch() {
        String m = CudaErrors.driver(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc of 4096 bytes",
                "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");
        assertEquals("the GPU is out of memory in cuMemAlloc of 4096 bytes (CUDA_ERROR_OUT_OF_MEMORY (out of memory)); "
                + "try a smaller --batch, or --device cpu", m);
        assertTrue(CudaErrors.cublas(cublasStatus.CUBLAS_STATUS_ALLOC_FAILED, "cublasSgemm", "CUBLAS_STATUS_ALLOC_FAILED")
                .startsWith("the GPU is out of memory in cublasSgemm"));
    }

    @ParameterizedTest
    @ValueSource(ints = {CUresult.CUDA_ERROR_ILLEGAL_ADDRESS, CUresult.CUDA_ERROR_LAUNCH_FAILED,
            CUresult.CUDA_ERROR_ECC_UNCORRECTABLE, CUresult.CUDA_ERROR_DEVICE_UNAVAILABLE,
            CUresult.CUDA_ERROR_NO_DEVICE, CUresult.CUDA_ERROR_LAUNCH_TIMEOUT})
    void aLostDeviceStopsTheRunAndSaysThereIsNoCpuFallback(int code) {
        String m = CudaErrors.driver(code, "kernel conv_fwd", CUresult.stringFor(code));
        assertTrue(m.startsWith("the GPU failed in kernel conv_fwd: " + CUresult.stringFor(code)), m);
        assertTrue(m.contains("nothing falls back to the CPU") && m.contains("--device cpu"), m);
        assertTrue(CudaErrors.deviceLost(code));
    }

    @org.junit.jupiter.api.Test
    void otherErrorsNameTheCall() {
        assertEquals("CUDA error in cuModuleLoadData: CUDA_ERROR_INVALID_IMAGE",
                CudaErrors.driver(CUresult.CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData", "CUDA_ERROR_INVALID_IMAGE"));
        assertEquals("cuBLAS error in cublasSgemm: CUBLAS_STATUS_INVALID_VALUE", CudaErrors.cublas(
                cublasStatus.CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm", "CUBLAS_STATUS_INVALID_VALUE"));
    }
}
