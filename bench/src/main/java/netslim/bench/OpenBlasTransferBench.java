package netslim.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.TimeUnit;

import netslim.backend.cpu.OpenBlasGemm;
import netslim.tensor.Rng;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What it costs to hand Java float[] data to OpenBLAS through JavaCPP, per way of passing it:
 * {@code direct} = operands already off-heap (pure OpenBLAS time, the lower bound); {@code floatArray} = JavaCPP's
 * float[] overload (GetFloatArrayElements: whole-array malloc + copy in, C copied out); {@code heapBuffer} =
 * FloatBuffer.wrap (the same copies, via array()); {@code staged} = {@link OpenBlasGemm} (our bulk copies into reused
 * per-thread direct buffers, C not copied in when beta = 0; m or n = 1 goes to its Java GEMV instead).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx4g"})
public class OpenBlasTransferBench {
    @Param({"direct", "floatArray", "heapBuffer", "staged"})
    public String passing;

    /** M x K x N. */
    @Param({"1024x1024x1024", "64x147x12544", "384x832x49", "1000x1024x1"})
    public String shape;

    @Param({"2"})
    public int threads;

    private int m, k, n;
    private float[] a, b, c;
    private FloatBuffer da, db, dc;
    private OpenBlasGemm staged;

    @Setup(Level.Trial)
    public void setUp() {
        String[] mkn = shape.split("x");
        m = Integer.parseInt(mkn[0]);
        k = Integer.parseInt(mkn[1]);
        n = Integer.parseInt(mkn[2]);
        Rng rng = new Rng(42);
        a = GemmBench.uniform(rng, m * k);
        b = GemmBench.uniform(rng, k * n);
        c = new float[m * n];
        da = direct(a);
        db = direct(b);
        dc = direct(c);
        staged = new OpenBlasGemm(threads); // also loads the library
        openblas_nolapack.blas_set_num_threads(threads);
    }

    private static FloatBuffer direct(float[] x) {
        FloatBuffer f = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.put(0, x);
        return f;
    }

    @Benchmark
    public Object sgemm() {
        int rm = openblas_nolapack.CblasRowMajor;
        int nt = openblas_nolapack.CblasNoTrans;
        switch (passing) {
            case "direct" -> openblas_nolapack.cblas_sgemm(rm, nt, nt, m, n, k, 1f, da, k, db, n, 0f, dc, n);
            case "floatArray" -> openblas_nolapack.cblas_sgemm(rm, nt, nt, m, n, k, 1f, a, k, b, n, 0f, c, n);
            case "heapBuffer" -> openblas_nolapack.cblas_sgemm(rm, nt, nt, m, n, k, 1f,
                    FloatBuffer.wrap(a), k, FloatBuffer.wrap(b), n, 0f, FloatBuffer.wrap(c), n);
            case "staged" -> staged.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
            default -> throw new IllegalArgumentException(passing);
        }
        return c;
    }
}
