package netslim.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.report.ModelStats;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Issue 8's third target measured in one JVM: a zoo model dense and as {@link ModelBench}'s rewritten variants
 * ({@code compressed}: l1 pruning at 0.3 ranked globally, then Tucker-2 with EVBMF ranks; {@code pruned}: l1 pruning
 * at 0.3 within every layer, widths rounded to 8, no Tucker-2), each on the serving plan, passes interleaved after an
 * interleaved warm-up, so a machine whose speed drifts slows every variant alike. Prints, per batch and variant, MACs
 * per image, the median pass, the MAC reduction, the measured speedup over dense and speedup ÷ MAC reduction (target
 * ≥ 0.8).
 *
 * <p>Usage: {@code java -cp benchmarks.jar netslim.bench.CompressionSideBySide MODEL [batch ...]} (default 1 32),
 * with {@code -Dthreads=2}, {@code -Dgemm=auto|openblas|java}, {@code -Dwarmup=15} (seconds of interleaved warm-up
 * per batch), {@code -Dpasses=40} (timed passes of each variant per batch), {@code -Dvariants=compressed,pruned}.
 * See bench/compression-side-by-side.sh.
 */
public final class CompressionSideBySide {
    private CompressionSideBySide() {
    }

    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: CompressionSideBySide MODEL [batch ...]");
            System.exit(2);
        }
        String model = args[0];
        int[] batches = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 32};
        int threads = Integer.getInteger("threads", 2), passes = Integer.getInteger("passes", 40);
        double warmupSeconds = Double.parseDouble(System.getProperty("warmup", "15"));
        String[] variants = ("dense," + System.getProperty("variants", "compressed,pruned")).split(",");
        if (passes < 1) throw new IllegalArgumentException("-Dpasses must be ≥ 1, got " + passes);

        Graph dense = Zoo.create(model, new Zoo.Options(0, null, 1.0, 42));
        List<Graph> graphs = new ArrayList<>();
        long[] macs = new long[variants.length];
        for (int i = 0; i < variants.length; i++) {
            Graph g = switch (variants[i]) {
                case "dense" -> dense;
                case "compressed" -> ModelBench.compress(dense);
                case "pruned" -> ModelBench.prune(dense);
                default -> throw new IllegalArgumentException("variant must be compressed or pruned, got '"
                        + variants[i] + "'");
            };
            graphs.add(g);
            macs[i] = ModelStats.of(model, g).macs();
        }
        try (CpuBackend backend = CpuBackend.create(threads, Gemm.select(System.getProperty("gemm", "auto"),
                threads))) {
            System.out.printf("# %s on %s; %d timed passes of each variant per batch, interleaved%n", model, backend,
                    passes);
            System.out.printf("%-6s %-11s %14s %10s %9s %14s %8s %19s%n", "batch", "variant", "MACs/image",
                    "median ms", "p10 ms", "MAC reduction", "speedup", "speedup / MAC red.");
            for (int batch : batches) run(graphs, variants, macs, backend, batch, warmupSeconds, passes);
        }
    }

    private static void run(List<Graph> graphs, String[] variants, long[] macs, CpuBackend backend, int batch,
                            double warmupSeconds, int passes) {
        List<Executor> executors = new ArrayList<>();
        try {
            for (Graph g : graphs) executors.add(Executor.forInference(g, backend, batch));
            Shape in = graphs.get(0).inputShape();
            Tensor x = new Rng(42).uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2)));
            long end = System.nanoTime() + (long) (warmupSeconds * 1e9);
            for (int w = 0; w < 10 || System.nanoTime() < end; w++) {
                for (Executor e : executors) e.forward(x);
            }
            double[][] ms = new double[executors.size()][passes];
            for (int p = 0; p < passes; p++) {
                for (int k = 0; k < executors.size(); k++) {
                    int i = p % 2 == 0 ? k : executors.size() - 1 - k; // the order alternates
                    long t0 = System.nanoTime();
                    executors.get(i).forward(x);
                    ms[i][p] = (System.nanoTime() - t0) / 1e6;
                }
            }
            double denseMedian = percentile(ms[0], 0.5);
            for (int i = 0; i < executors.size(); i++) {
                double median = percentile(ms[i], 0.5), reduction = (double) macs[0] / macs[i];
                double speedup = denseMedian / median;
                System.out.printf("%-6d %-11s %,14d %10.2f %9.2f %13.2fx %7.2fx %19.2f%n", batch, variants[i],
                        macs[i], median, percentile(ms[i], 0.1), reduction, speedup, speedup / reduction);
            }
        } finally {
            for (Executor e : executors) e.close();
        }
    }

    private static double percentile(double[] v, double q) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.floor(q * s.length))];
    }
}
