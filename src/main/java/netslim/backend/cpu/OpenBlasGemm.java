package netslim.backend.cpu;

import java.nio.FloatBuffer;

import netslim.NetslimException;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * SGEMM through OpenBLAS ({@code cblas_sgemm}, row-major) from Maven Central's {@code org.bytedeco:openblas}
 * (bundled native library, the BLAS-only {@code openblas_nolapack} binding). OpenBLAS itself always runs on one
 * thread ({@code blas_set_num_threads(1)}, a process-wide setting); with {@code threads > 1} a call is cut into
 * slabs of C ({@link GemmSplit}, one per thread by default) and each slab is one single-threaded
 * {@code cblas_sgemm} on the shared workers, staging only the operand rows or columns it reads. OpenBLAS's own
 * threading spins on its hand-off and collapsed here whenever a core was busy (see the caveat below).
 *
 * <p><b>How operands reach the native code.</b> The JavaCPP binding has three overloads; disassembling the
 * generated JNI functions in {@code libjniopenblas_nolapack.so} (objdump; JNI function-table slots 189/197/230)
 * shows:
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
 * whole array), densely, C in only when beta != 0, with no malloc and no fresh page faults per call. Measured with
 * caches flushed ({@code GemmSideBySide --copies}, bench/RESULTS.md): 1024³ operands (12.6 MB) cost 1.5 ms staged
 * against 5.5 ms through the float[] overload; for GoogLeNet's 64x147x12544 conv1 (10.6 MB) 1.3 ms against 1.7 ms,
 * i.e. a third of the 2-thread product time there. Copying on two threads saved only ~15% and is not done.
 *
 * <p>Matrix-vector shapes (m or n = 1) skip OpenBLAS: {@link Gemv} reads the heap arrays in place, while the native
 * route would first copy the whole matrix, and {@code cblas_sgemm} itself is slow there (~4 GFLOP/s for
 * 1000x1024x1 against ~30 for the Java GEMV).
 *
 * <p>Caveat measured on this shared 2-core machine with OpenBLAS's own threads (before the slabs): with 2 OpenBLAS
 * threads and the other core busy (other processes, or the engine's own threads), its spinning thread hand-off
 * collapsed (256³ fell from ~120 to 2 GFLOP/s), where the Java GEMM's pool degrades gracefully.
 */
public final class OpenBlasGemm implements Gemm {
    // CBLAS enum values (compile-time constants, so reading them does not load the library).
    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;
    private static volatile boolean singleThreaded;

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
        sgemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc, null);
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb, float beta,
                      float[] c, int offC, int ldc, Epilogue epilogue) {
        GemmCall g = new GemmCall(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc)
                .check();
        if (g.finishTrivial() || Gemv.tryRun(g, VectorGemm.VECTOR_BY_DEFAULT, threads)) {
            if (epilogue != null) epilogue.apply(c, offC, ldc, 0, m, 0, n);
            return;
        }
        if (threads == 1) {
            product(g, 0, m, 0, n);
            if (epilogue != null) epilogue.apply(c, offC, ldc, 0, m, 0, n);
            return;
        }
        // Several threads: each part is a 1-thread OpenBLAS call on a slab of C, handed out by GemmSplit's shared
        // counter (as the Java GEMM does), instead of OpenBLAS's own threads, whose spinning hand-off collapses when
        // a core is busy (bench/RESULTS.md). Each slab stages only the operand rows/columns it reads.
        GemmSplit.plan(m, n, k, threads, SLAB_ROWS, SLAB_COLUMNS).run((i0, i1, j0, j1) -> {
            product(g, i0, i1, j0, j1);
            if (epilogue != null) epilogue.apply(c, offC, ldc, i0, i1, j0, j1);
        });
    }

    /** Row and column granularity of the slabs of a split call. */
    private static final int SLAB_ROWS = 16, SLAB_COLUMNS = 64;

    /** C[i0:i1, j0:j1] of the call, by one single-threaded OpenBLAS call on staged copies of the operands it reads. */
    private void product(GemmCall g, int i0, int i1, int j0, int j1) {
        int m = i1 - i0, n = j1 - j0, k = g.k();
        NativeStaging s = NativeStaging.get();
        // op(A) rows [i0, i1): stored rows of A, or stored columns when A is transposed (then A is k x M).
        FloatBuffer na = g.transA()
                ? s.a.stage(g.a(), g.offA() + i0, k, m, g.lda())
                : s.a.stage(g.a(), g.offA() + i0 * g.lda(), m, k, g.lda());
        // op(B) columns [j0, j1): stored columns of B, or stored rows when B is transposed (then B is N x k).
        FloatBuffer nb = g.transB()
                ? s.b.stage(g.b(), g.offB() + j0 * g.ldb(), n, k, g.ldb())
                : s.b.stage(g.b(), g.offB() + j0, k, n, g.ldb());
        int offC = g.offC() + i0 * g.ldc() + j0;
        // With beta == 0 OpenBLAS overwrites C without reading it, so C need not be copied in.
        FloatBuffer nc = g.beta() == 0f ? s.c.reserve(m * n) : s.c.stage(g.c(), offC, m, n, g.ldc());
        useOneThread();
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, g.transA() ? TRANS : NO_TRANS, g.transB() ? TRANS : NO_TRANS, m, n, k,
                g.alpha(), na, g.transA() ? m : k, nb, g.transB() ? k : n, g.beta(), nc, n);
        s.c.unstage(g.c(), offC, m, n, g.ldc());
    }

    /**
     * One single-threaded {@code cblas_sgemm} on dense row-major operands already staged in native memory (the
     * caller's own {@link NativeStaging.Slot}s): C (m x n) = op(A) · op(B) + beta · C, A stored m x k (k x m when
     * transposed), B stored k x n (n x k when transposed).
     */
    static void nativeProduct(boolean transA, boolean transB, int m, int n, int k, FloatBuffer a, FloatBuffer b,
                              float beta, FloatBuffer c) {
        useOneThread();
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, 1f,
                a, transA ? m : k, b, transB ? k : n, beta, c, n);
    }

    private static void useOneThread() {
        if (!singleThreaded) {
            synchronized (OpenBlasGemm.class) {
                openblas_nolapack.blas_set_num_threads(1);
                singleThreaded = true;
            }
        }
    }

    @Override
    public String toString() {
        return "OpenBlasGemm[threads=" + threads + "]";
    }
}
