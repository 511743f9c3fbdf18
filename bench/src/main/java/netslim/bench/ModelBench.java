package netslim.bench;

import java.util.concurrent.TimeUnit;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.decompose.RankPolicy;
import netslim.decompose.TuckerDecomposer;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.prune.FilterPruner;
import netslim.prune.FineTuner;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.report.ModelStats;
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
 * Model-level inference latency on the CPU backend: googlenet (3x224x224) and googlenet-cifar (its zoo default
 * input, width {@code width}), dense and compressed, batch 1 and 8, each GEMM. One forward pass of the serving
 * plan ({@link Executor#forInference}: BatchNorm folded, conv+ReLU fused) per call, host input upload and output
 * download included (what {@code netslim bench} times).
 *
 * <p>{@code compressed} is built in {@link #setUp} from the seeded dense model with the library's own rewrites at
 * fixed settings: l1 filter pruning at ratio {@value #PRUNE_RATIO} (one round, no fine-tuning), then Tucker-2 of
 * every eligible conv with EVBMF ranks ({@value #RANK}, {@value #HOOI_ITERS} HOOI sweeps). The weights are random,
 * so EVBMF sees mostly noise and its ranks are low: the variant is a fixed, reproducible workload, not a
 * trained compressed model (googlenet 1.50 G → 0.28 G MACs, 5.3x; googlenet-cifar w1 1.16 G → 0.24 G, 4.8x).
 * {@code pruned} ({@link #prune}) is filter pruning alone, every layer losing the same fraction: googlenet 1.9x.
 * The MAC reduction is printed at setup, so a run can set the measured speedup against it (issue 8's target:
 * speedup ≥ 0.8 × MAC reduction).
 * Run: {@code bench/run-jmh.sh ModelBench -f 1 -wi 2 -i 5 -p model=googlenet-cifar}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xss8m", "-Xmx8g",
        "-XX:+UseTransparentHugePages"}) // as ./netslim runs where the kernel offers them (else: a JVM warning)
public class ModelBench {
    static final double PRUNE_RATIO = 0.3;
    static final String RANK = "evbmf";
    static final int HOOI_ITERS = 10;

    @Param({"googlenet-cifar", "googlenet"})
    public String model;

    @Param({"dense", "compressed", "pruned"})
    public String variant;

    @Param({"1", "8"})
    public int batch;

    @Param({"openblas", "java"})
    public String gemm;

    @Param({"2"})
    public int threads;

    /** googlenet-cifar's width multiplier (googlenet is always 1). */
    @Param({"1.0"})
    public double width;

    private Backend backend;
    private Executor executor;
    private Tensor x, host;

    @Setup(Level.Trial)
    public void setUp() {
        boolean cifar = model.equals("googlenet-cifar");
        Graph dense = Zoo.create(model, new Zoo.Options(0, null, cifar ? width : 1.0, 42));
        Graph g = switch (variant) {
            case "dense" -> dense;
            case "compressed" -> compress(dense);
            case "pruned" -> prune(dense);
            default -> throw new IllegalArgumentException("variant must be dense, compressed or pruned, got "
                    + variant);
        };
        long denseMacs = ModelStats.of(model, dense).macs(), macs = ModelStats.of(model, g).macs();
        System.out.printf("%n# %s %s: %,d MACs per image (dense %,d; MAC reduction %.2fx)%n", model, variant, macs,
                denseMacs, (double) denseMacs / macs);
        backend = CpuBackend.create(threads, Gemm.select(gemm, threads));
        executor = Executor.forInference(g, backend, batch);
        Shape in = g.inputShape();
        x = new Rng(42).uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2)));
        host = Tensor.zeros(g.shapes(batch).get(g.outputName()));
    }

    /** Prune (l1, {@link #PRUNE_RATIO}) then Tucker-2 ({@link #RANK}): the library's rewrites, nothing else. */
    static Graph compress(Graph dense) {
        Graph pruned = new FilterPruner(PruneOptions.ratio(PRUNE_RATIO), Importance.l1(), FineTuner.NONE)
                .prune(dense).graph();
        TuckerDecomposer.Options o = new TuckerDecomposer.Options(RankPolicy.parse(RANK), HOOI_ITERS, null, false);
        return new TuckerDecomposer(o).decompose(pruned).graph();
    }

    /**
     * Filter pruning alone, each layer's channels ranked within the layer (l1, {@link #PRUNE_RATIO} of every group,
     * kept widths rounded to multiples of {@value #PRUNED_ROUND_TO}), no Tucker-2: a moderate compression whose MACs
     * shrink evenly across the 1x1s and 3x3s (googlenet 1.50 G → 0.78 G MACs, 1.9x).
     */
    static Graph prune(Graph dense) {
        PruneOptions o = PruneOptions.ratio(PRUNE_RATIO).withPerLayer(true).withRoundTo(PRUNED_ROUND_TO);
        return new FilterPruner(o, Importance.l1(), FineTuner.NONE).prune(dense).graph();
    }

    static final int PRUNED_ROUND_TO = 8;

    @TearDown(Level.Trial)
    public void tearDown() {
        executor.close();
        backend.close();
    }

    @Benchmark
    public Tensor forward() {
        backend.download(executor.forward(x), host);
        return host;
    }
}
