package netslim.backend.cuda;

import static jcuda.driver.CUresult.CUDA_ERROR_CONTEXT_IS_DESTROYED;
import static jcuda.driver.CUresult.CUDA_ERROR_DEINITIALIZED;
import static jcuda.driver.CUresult.CUDA_ERROR_DEVICE_UNAVAILABLE;
import static jcuda.driver.CUresult.CUDA_ERROR_ECC_UNCORRECTABLE;
import static jcuda.driver.CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR;
import static jcuda.driver.CUresult.CUDA_ERROR_ILLEGAL_ADDRESS;
import static jcuda.driver.CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION;
import static jcuda.driver.CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE;
import static jcuda.driver.CUresult.CUDA_ERROR_INVALID_PC;
import static jcuda.driver.CUresult.CUDA_ERROR_LAUNCH_FAILED;
import static jcuda.driver.CUresult.CUDA_ERROR_LAUNCH_TIMEOUT;
import static jcuda.driver.CUresult.CUDA_ERROR_MISALIGNED_ADDRESS;
import static jcuda.driver.CUresult.CUDA_ERROR_NO_DEVICE;
import static jcuda.driver.CUresult.CUDA_ERROR_NVLINK_UNCORRECTABLE;
import static jcuda.driver.CUresult.CUDA_ERROR_OUT_OF_MEMORY;
import static jcuda.driver.CUresult.CUDA_ERROR_SYSTEM_NOT_READY;
import static jcuda.jcublas.cublasStatus.CUBLAS_STATUS_ALLOC_FAILED;
import static jcuda.jcublas.cublasStatus.CUBLAS_STATUS_EXECUTION_FAILED;

import java.util.Set;

/**
 * The one-line messages of failed CUDA and cuBLAS calls. Out of memory says what to shrink. A lost or faulted
 * device (a kernel fault, an ECC error, the driver gone) leaves the CUDA context unusable — "sticky" errors in the
 * CUDA documentation — so the message says that the run stops there and that nothing falls back to the CPU
 * silently. Everything else names the call and the CUDA error. Pure functions of the codes: tested without a GPU.
 */
final class CudaErrors {
    private CudaErrors() {
    }

    /** Driver results after which the context (or the device) cannot be used again in this process. */
    private static final Set<Integer> DEVICE_LOST = Set.of(CUDA_ERROR_ILLEGAL_ADDRESS, CUDA_ERROR_LAUNCH_FAILED,
            CUDA_ERROR_LAUNCH_TIMEOUT, CUDA_ERROR_HARDWARE_STACK_ERROR, CUDA_ERROR_ILLEGAL_INSTRUCTION,
            CUDA_ERROR_MISALIGNED_ADDRESS, CUDA_ERROR_INVALID_ADDRESS_SPACE, CUDA_ERROR_INVALID_PC,
            CUDA_ERROR_ECC_UNCORRECTABLE, CUDA_ERROR_NVLINK_UNCORRECTABLE, CUDA_ERROR_DEVICE_UNAVAILABLE,
            CUDA_ERROR_NO_DEVICE, CUDA_ERROR_DEINITIALIZED, CUDA_ERROR_CONTEXT_IS_DESTROYED,
            CUDA_ERROR_SYSTEM_NOT_READY);

    static final String OUT_OF_MEMORY_HINT = "try a smaller --batch, or --device cpu";
    static final String LOST_HINT = "the GPU's CUDA context cannot be used any more, so the run stops here (nothing "
            + "falls back to the CPU); rerun it (with --resume where the command has it) or use --device cpu";

    static boolean deviceLost(int result) {
        return DEVICE_LOST.contains(result);
    }

    /** The message for driver result {@code result} (≠ 0) of {@code what}; {@code name} is its CUDA name and text. */
    static String driver(int result, String what, String name) {
        if (result == CUDA_ERROR_OUT_OF_MEMORY) return "the GPU is out of memory in " + what + " (" + name + "); "
                + OUT_OF_MEMORY_HINT;
        if (deviceLost(result)) return "the GPU failed in " + what + ": " + name + "; " + LOST_HINT;
        return "CUDA error in " + what + ": " + name;
    }

    /** The message for cuBLAS status {@code status} (≠ success) of {@code what}; {@code name} is its name. */
    static String cublas(int status, String what, String name) {
        if (status == CUBLAS_STATUS_ALLOC_FAILED) return "the GPU is out of memory in " + what + " (" + name + "); "
                + OUT_OF_MEMORY_HINT;
        if (status == CUBLAS_STATUS_EXECUTION_FAILED) return "the GPU failed in " + what + ": " + name + "; " + LOST_HINT;
        return "cuBLAS error in " + what + ": " + name;
    }
}
