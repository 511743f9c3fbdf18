package netslim.bench;

import java.util.concurrent.TimeUnit;

import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * conv2d forward and backward of GoogLeNet-like layers on the CPU backend (OpenBLAS or Java GEMM) and on the
 * scalar reference; {@code forwardPrepared} is the serving plan's call (weights prepared once: on the CPU Winograd
 * F(2x2, 3x3) or F(4x4, 3x3) where its rule picks one, e.g. conv3's 64>192 at 56x56 and 128>192 at 28x28 at batch 8
 * take F(4x4); other convs as conv2d). The last two layers are low-rank Tucker ends (the skinny pointwise path). Layer notation: {@code N:in>out:k:stride:pad:HxW}. MACs per forward = N·out·oH·oW·in·k²;
 * e.g. 192>64 3x3 at 28x28 is 86.7 M MACs, the 7x7/2 stem at 224x224 is 118 M MACs. The reference is slow
 * (seconds per backward at 224x224): run it with {@code -p backend=reference} and few iterations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx4g",
        "-XX:+UseTransparentHugePages"}) // as ./netslim runs where the kernel offers them (else: a JVM warning)
public class ConvBench {
    @Param({"cpu-openblas", "cpu-java", "reference"})
    public String backend;

    @Param({"1:192>64:3:1:1:28x28", "1:3>64:7:2:3:224x224", "1:256>128:1:1:0:28x28", "32:128>192:3:1:1:8x8",
        "32:256>64:1:1:0:8x8", "1:64>192:3:1:1:56x56", "8:128>192:3:1:1:28x28", "1:2>64:1:1:0:112x112",
        "1:64>2:1:1:0:56x56"})
    public String layer;

    @Param({"2"})
    public int threads;

    private Backend b;
    private ConvSpec spec;
    private Tensor x, w, bias, y, dx, dw, db, prepared;

    @Setup(Level.Trial)
    public void setUp() {
        String[] f = layer.split(":");
        int n = Integer.parseInt(f[0]);
        String[] io = f[1].split(">");
        String[] hw = f[5].split("x");
        spec = ConvSpec.of(Integer.parseInt(io[0]), Integer.parseInt(io[1]), Integer.parseInt(f[2]),
                Integer.parseInt(f[3]), Integer.parseInt(f[4]));
        int h = Integer.parseInt(hw[0]), wd = Integer.parseInt(hw[1]);
        b = switch (backend) {
            case "cpu-openblas" -> CpuBackend.create(threads, Gemm.select("openblas", threads));
            case "cpu-java" -> CpuBackend.create(threads, Gemm.select("java", threads));
            case "reference" -> ReferenceKernels.create();
            default -> throw new IllegalArgumentException("unknown backend " + backend);
        };
        Rng rng = new Rng(42);
        x = rng.uniform(Shape.of(n, spec.inChannels(), h, wd));
        w = rng.uniform(Shape.of(spec.outChannels(), spec.inChannels(), spec.kh(), spec.kw()));
        bias = rng.uniform(Shape.of(spec.outChannels()));
        y = rng.uniform(Shape.of(n, spec.outChannels(), spec.outH(h), spec.outW(wd)));
        dx = Tensor.zeros(x.shape());
        dw = Tensor.zeros(w.shape());
        db = Tensor.zeros(bias.shape());
        prepared = b.prepareConvWeights(w, spec, x.shape());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        b.close();
    }

    @Benchmark
    public Tensor forward() {
        b.conv2d(x, w, bias, y, spec);
        return y;
    }

    /** The serving plan's conv: the prepared path when the backend prepared the weights, else conv2d. */
    @Benchmark
    public Tensor forwardPrepared() {
        if (prepared != null) b.conv2dPrepared(x, prepared, bias, y, spec, false);
        else b.conv2d(x, w, bias, y, spec);
        return y;
    }

    /** dx, dw and db of the layer (y stands in for dy; the gradients accumulate, which costs the same). */
    @Benchmark
    public Tensor backward() {
        b.conv2dBackward(x, w, y, dx, dw, db, spec);
        return dw;
    }
}
