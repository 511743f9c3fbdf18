package netslim.backend.cpu;

import java.nio.FloatBuffer;

import netslim.NetslimException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * SGEMM through OpenBLAS ({@code cblas_sgemm}, row-major) from Maven Central's {@code org.bytedeco:openblas}
 * (bundled native library, the BLAS-only {@code openblas_nolapack} binding). OpenBLAS's own thread count is set to
 * {@code threads} before each call that needs a different one (it is a process-wide setting).
 *
 * <p><b>How operands reach the native code.</b> The JavaCPP binding has three overloads; disassembling the
 * generated JNI functions in {@code libjniopenblas_nolapack.so} shows:
 * <ul>
 * <li>{@code float[]}: {@code GetFloatArrayElements} on all three arrays, then {@code ReleaseFloatArrayElements}
 * with {@code JNI_ABORT} for A and B and mode 0 (copy back) for C. HotSpot never pins for this call: it mallocs and
 * copies the <em>whole</em> array in (and C's whole array out) on every call, and there is no offset parameter, so
 * a matrix inside a bigger array would need a second copy first.</li>
 * <li>{@code FloatBuffer}: a direct buffer is passed zero-copy ({@code GetDirectBufferAddress} + its position);
 * a heap buffer ({@code FloatBuffer.wrap}) falls back to {@code array()} + {@code GetFloatArrayElements}, i.e. the
 * same whole-array copies.</li>
 * <li>{@code FloatPointer}: zero-copy (address + position), but filling one from a Java array is a JNI call per
 * row.</li>
 * </ul>
 * No overload uses {@code GetPrimitiveArrayCritical}, so a copy of heap data is unavoidable. We therefore copy each
 * operand ourselves into a reused per-thread direct buffer ({@link NativeStaging}): only the matrix itself (not the
 * whole array), densely, C only when beta != 0, with no malloc and no fresh page faults per call. Measured costs
 * are in bench/RESULTS.md. Matrix-vector shapes (m or n = 1) skip OpenBLAS entirely: {@link Gemv} reads the heap
 * arrays in place, while the native route would first copy the whole matrix (as many bytes as the product reads).
 */
public final class OpenBlasGemm implements Gemm {
    // CBLAS enum values (compile-time constants, so reading them does not load the library).
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;
    private static int currentThreads = -1;

    private final int threads;

    /** OpenBLAS on {@code threads} threads; throws {@link NetslimException} when the native library cannot load. */
    public OpenBlasGemm(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        Throwable failure = loadFailure();
        if (failure != null) {
            throw new NetslimException("OpenBLAS native library could not be loaded (" + oneLine(failure)
                    + "); use the Java GEMM (-Dnetslim.gemm=java)");
        }
        this.threads = threads;
    }

    /** Loads the native library once; the outcome (null on success) is cached for the JVM's lifetime. */
    private static final class Library {
        static final Throwable LOAD_FAILURE = tryLoad();

        private static Throwable tryLoad() {
            try {
                // Loads libopenblas and its JNI binding (extracted once to ~/.javacpp/cache). Static methods such as
                // blas_get_num_threads() are declared in the presets superclass and would not trigger this.
                Loader.load(openblas_nolapack.class);
                return null;
            } catch (Throwable t) {
                return t;
            }
        }
    }

    /** Null when OpenBLAS is usable, else why it is not. */
    static Throwable loadFailure() {
        return Library.LOAD_FAILURE;
    }

    static String oneLine(Throwable t) {
        String msg = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                      float[] c, int offC, int ldc) {
        GemmCall g = new GemmCall(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc)
                .check();
        if (g.finishTrivial() || Gemv.tryRun(g, VectorGemm.VECTOR_BY_DEFAULT, threads)) {
            return;
        }
        useThreads(threads);
        NativeStaging s = NativeStaging.get();
        FloatBuffer na = s.a.stage(a, offA, g.rowsA(), g.colsA(), lda);
        FloatBuffer nb = s.b.stage(b, offB, g.rowsB(), g.colsB(), ldb);
        // With beta == 0 OpenBLAS overwrites C without reading it, so C need not be copied in.
        FloatBuffer nc = beta == 0f ? s.c.reserve(m * n) : s.c.stage(c, offC, m, n, ldc);
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, na, g.colsA(), nb, g.colsB(), beta, nc, n);
        s.c.unstage(c, offC, m, n, ldc);
    }

    private static synchronized void useThreads(int threads) {
        if (currentThreads != threads) {
            openblas_nolapack.blas_set_num_threads(threads);
            currentThreads = threads;
        }
    }

    @Override
    public String toString() {
        return "OpenBlasGemm[threads=" + threads + "]";
    }
}
