package netslim.report;

import java.util.Arrays;
import java.util.function.Consumer;

import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Inference latency of a model: plans one serving executor ({@link Executor#forInference}: BatchNorm folded,
 * conv+ReLU fused), runs warm-up iterations, then times {@code iters} forward passes (host input upload and output
 * download included) on a seeded random batch.
 */
public final class Bench {
    private Bench() {
    }

    /** Latency percentiles in milliseconds and the throughput they imply. */
    public record Result(String model, String device, int batch, int warmup, int iters, double medianMs,
                         double p10Ms, double p90Ms, double imagesPerS, double[] samplesMs) {
    }

    public static Result run(String model, Graph g, Backend backend, int batch, int warmup, int iters,
                             Consumer<String> progress) {
        Shape in = g.inputShape();
        int[] d = new int[in.rank() + 1];
        d[0] = batch;
        for (int i = 0; i < in.rank(); i++) d[i + 1] = in.dim(i);
        Tensor x = new Rng(42).uniform(new Shape(d));
        try (Executor ex = Executor.forInference(g, backend, batch)) {
            Tensor host = Tensor.zeros(g.shapes(batch).get(g.outputName()));
            for (int i = 0; i < warmup; i++) {
                backend.download(ex.forward(x), host);
                progress.accept("warm-up " + (i + 1) + "/" + warmup);
            }
            double[] ms = new double[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                backend.download(ex.forward(x), host);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                progress.accept(String.format("iter %d/%d %.2f ms", i + 1, iters, ms[i]));
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = percentile(sorted, 0.5);
            return new Result(model, backend.name(), batch, warmup, iters, median, percentile(sorted, 0.1),
                    percentile(sorted, 0.9), batch * 1000.0 / median, ms);
        }
    }

    /** Linear interpolation between closest ranks (numpy's default) on a sorted array. */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
