package netslim.backend.cuda;

import static jcuda.jcublas.JCublas2.cublasCreate;
import static jcuda.jcublas.JCublas2.cublasDestroy;
import static jcuda.jcublas.JCublas2.cublasSetMathMode;
import static jcuda.jcublas.JCublas2.cublasSetPointerMode;
import static jcuda.jcublas.JCublas2.cublasSetStream;
import static jcuda.jcublas.JCublas2.cublasSgemm;
import static jcuda.jcublas.JCublas2.cublasSgemmStridedBatched;

import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;
import netslim.NetslimException;

/**
 * Row-major SGEMM on cuBLAS (JCublas2), on the backend's stream. cuBLAS is column-major; a row-major m x n matrix
 * is the column-major n x m transpose, so C = op(A)·op(B) is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands and
 * m with n, keep the transpose flags and leading dimensions. FP32 by default; with tf32 the tensor cores round the
 * inputs to TF32 (10-bit mantissa), about 1e-3 relative error per product.
 */
final class CudaBlas implements AutoCloseable {
    private final cublasHandle handle = new cublasHandle();
    private final boolean tf32;

    CudaBlas(CudaContext ctx, boolean tf32, int driverVersion) {
        this.tf32 = tf32;
        CudaShims.loadIfNeeded(driverVersion, "libcublas.so.12");
        try {
            JCublas2.setExceptionsEnabled(false);
            JCublas2.initialize();
        } catch (LinkageError e) {
            throw new NetslimException("cannot load cuBLAS through JCublas: " + CudaProbe.describe(e));
        }
        ctx.makeCurrent();
        int rc = cublasCreate(handle);
        if (rc == cublasStatus.CUBLAS_STATUS_NOT_SUPPORTED) {
            throw new NetslimException("cublasCreate: CUBLAS_STATUS_NOT_SUPPORTED: the shim found no libcublas.so.13 "
                    + "(add its folder to LD_LIBRARY_PATH or set NETSLIM_LIBCUBLAS to its path)");
        }
        check(rc, "cublasCreate");
        check(cublasSetStream(handle, new cudaStream_t(ctx.stream())), "cublasSetStream");
        check(cublasSetPointerMode(handle, cublasPointerMode.CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
        check(cublasSetMathMode(handle, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH),
                "cublasSetMathMode");
    }

    boolean tf32() {
        return tf32;
    }

    private static int op(boolean trans) {
        return trans ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    }

    /** Row-major C (m x n) = alpha·op(A)·op(B) + beta·C with row strides lda, ldb, ldc. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Pointer a, int lda, Pointer b,
              int ldb, float beta, Pointer c, int ldc) {
        if (m == 0 || n == 0) return;
        check(cublasSgemm(handle, op(transB), op(transA), n, m, k, Pointer.to(new float[] {alpha}), b, ldb, a, lda,
                Pointer.to(new float[] {beta}), c, ldc), "cublasSgemm");
    }

    /** {@link #gemm} on {@code batch} matrix triples at element strides sA, sB, sC (a stride may be 0: shared). */
    void gemmBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, Pointer a, int lda, long sA,
                     Pointer b, int ldb, long sB, float beta, Pointer c, int ldc, long sC, int batch) {
        if (m == 0 || n == 0 || batch == 0) return;
        if (batch == 1) { // batch-1 inference: the plain GEMM (cuBLAS's own heuristics for one matrix)
            gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        check(cublasSgemmStridedBatched(handle, op(transB), op(transA), n, m, k, Pointer.to(new float[] {alpha}),
                b, ldb, sB, a, lda, sA, Pointer.to(new float[] {beta}), c, ldc, sC, batch),
                "cublasSgemmStridedBatched");
    }

    static void check(int status, String what) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new NetslimException(CudaErrors.cublas(status, what, cublasStatus.stringFor(status)));
        }
    }

    @Override
    public void close() {
        cublasDestroy(handle);
    }
}
