package netslim.bench;

import java.util.concurrent.TimeUnit;

import netslim.backend.cpu.Gemm;
import netslim.tensor.Rng;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * SGEMM {@code C (M x N) = A (M x K) · B (K x N)}, row-major, no transposes, beta = 0: square sizes and the
 * GoogLeNet im2col shapes of PEERS.md. Reports time per call and, as the secondary "gflops" result, GFLOP/s
 * (2·M·N·K per call; JMH normalises the counter per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx4g"})
public class GemmBench {
    @Param({"openblas", "java"})
    public String impl;

    /** M x K x N. */
    @Param({"256x256x256", "512x512x512", "1024x1024x1024", "64x147x12544", "192x576x3136", "128x864x784",
        "384x832x49", "1000x1024x1"})
    public String shape;

    @Param({"2"})
    public int threads;

    private Gemm gemm;
    private int m, k, n;
    private float[] a, b, c;

    /** Billions of floating-point operations per call. */
    double gflopPerCall;

    @Setup(Level.Trial)
    public void setUp() {
        String[] mkn = shape.split("x");
        m = Integer.parseInt(mkn[0]);
        k = Integer.parseInt(mkn[1]);
        n = Integer.parseInt(mkn[2]);
        gemm = Gemm.select(impl, threads);
        Rng rng = new Rng(42);
        a = uniform(rng, m * k);
        b = uniform(rng, k * n);
        c = new float[m * n];
        gflopPerCall = 2.0 * m * n * k / 1e9;
    }

    static float[] uniform(Rng rng, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = 2f * rng.nextFloat() - 1f;
        }
        return x;
    }

    /** Per-thread counter: GFLOP done, reported per second by JMH, i.e. GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflops;
    }

    @Benchmark
    public float[] sgemm(Flops flops) {
        gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        flops.gflops += gflopPerCall;
        return c;
    }
}
