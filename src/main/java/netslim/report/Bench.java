package netslim.report;

import java.util.Arrays;
import java.util.function.Consumer;

import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.train.DataChecks;
import netslim.train.TrainConfig;
import netslim.train.TrainStep;

/**
 * Latency of a model on a seeded random batch, after warm-up: inference ({@link #run}: one serving executor,
 * {@link Executor#forInference} — BatchNorm folded, conv+ReLU fused — host input upload and output download
 * included) or one training step ({@link #train}).
 */
public final class Bench {
    private Bench() {
    }

    /**
     * Latency percentiles in milliseconds and the throughput they imply; {@code warmup} and {@code warmupSeconds}:
     * the untimed passes that ran and how long they took; {@code deviceGraph}: the timed passes replayed a captured
     * device graph (a CUDA graph, see Executor).
     */
    public record Result(String model, String device, int batch, int warmup, double warmupSeconds, int iters,
                         double medianMs, double p10Ms, double p90Ms, double imagesPerS, double[] samplesMs,
                         boolean deviceGraph) {
        Result withDeviceGraph(boolean graph) {
            return new Result(model, device, batch, warmup, warmupSeconds, iters, medianMs, p10Ms, p90Ms, imagesPerS,
                    samplesMs, graph);
        }
    }

    /** Inference latency: {@code warmup} untimed then {@code iters} timed forward passes. */
    public static Result run(String model, Graph g, Backend backend, int batch, int warmup, int iters,
                             Consumer<String> progress) {
        return run(model, g, backend, batch, warmup, 0, iters, progress);
    }

    /**
     * Inference latency: untimed passes until at least {@code warmup} have run and at least {@code warmupSeconds}
     * have passed (the JIT: see {@link #time}), then {@code iters} timed forward passes.
     */
    public static Result run(String model, Graph g, Backend backend, int batch, int warmup, double warmupSeconds,
                             int iters, Consumer<String> progress) {
        Tensor x = new Rng(42).uniform(batchShape(g, batch));
        try (Executor ex = Executor.forInference(g, backend, batch)) {
            Tensor host = Tensor.zeros(g.shapes(batch).get(g.outputName()));
            return time(model, backend, batch, warmup, warmupSeconds, iters, progress,
                    () -> backend.download(ex.forward(x), host)).withDeviceGraph(ex.replaysGraph());
        }
    }

    /** One node's share of a forward pass: median wall time over the timed passes, and its MACs per image. */
    public record LayerTime(String name, String kind, double medianMs, long macs) {
    }

    /**
     * Per-node forward times of the serving plan ({@link Executor#forInference}; a conv fused with its ReLU carries
     * the ReLU's time, the ReLU shows 0): {@code warmup} untimed passes, then {@code iters} timed ones. Wall time
     * per op on the CPU; CUDA event timestamps between the ops on the GPU (passes run op by op, not as a graph).
     * Sorted by median time, slowest first.
     */
    public static java.util.List<LayerTime> layers(Graph g, Backend backend, int batch, int warmup, int iters) {
        Tensor x = new Rng(42).uniform(batchShape(g, batch));
        try (Executor ex = Executor.forInference(g, backend, batch)) {
            java.util.Map<String, double[]> samples = new java.util.LinkedHashMap<>();
            int[] pass = {0};
            ex.setNodeTimer((n, nanos) -> samples.computeIfAbsent(n.name(), k -> new double[iters])[pass[0]] = nanos / 1e6);
            for (int i = 0; i < warmup + iters; i++) {
                pass[0] = Math.max(0, i - warmup);
                ex.forward(x);
            }
            java.util.Map<String, netslim.tensor.Shape> shapes = ex.graph().shapes(1);
            java.util.List<LayerTime> out = new java.util.ArrayList<>();
            for (netslim.nn.Node n : ex.graph().nodes()) {
                double[] ms = samples.get(n.name()).clone();
                Arrays.sort(ms);
                out.add(new LayerTime(n.name(), n.layer().kind(), percentile(ms, 0.5),
                        ModelStats.macs(n.layer(), shapes.get(n.name()))));
            }
            out.sort(java.util.Comparator.comparingDouble(LayerTime::medianMs).reversed());
            return out;
        }
    }

    /**
     * The training step {@code bench --train} times: PyTorch's {@code torch_bench.py --train} step — SGD with
     * learning rate 0.01, momentum 0.9 (not Nesterov), no weight decay; cross-entropy without label smoothing.
     */
    public static TrainConfig trainStepConfig(int batch) {
        return TrainConfig.defaults(1).withBatchSize(batch).withLr(0.01).withMomentum(0.9, false)
                .withWeightDecay(0, false);
    }

    /**
     * Training-step latency: {@code warmup} untimed then {@code iters} timed {@link TrainStep#run}s (TRAINING-mode
     * forward with batch statistics and dropout, softmax cross-entropy, backward, SGD update of every trainable
     * parameter; {@link #trainStepConfig}) on one seeded random batch with seeded random labels. The graph's weights
     * are trained in place (on a device backend they are copied back at the end, untimed).
     */
    public static Result train(String model, Graph g, Backend backend, int batch, int warmup, int iters,
                               Consumer<String> progress) {
        return train(model, g, backend, batch, warmup, 0, iters, progress);
    }

    /** {@link #train}, warming up as {@link #run(String, Graph, Backend, int, int, double, int, Consumer)} does. */
    public static Result train(String model, Graph g, Backend backend, int batch, int warmup, double warmupSeconds,
                               int iters, Consumer<String> progress) {
        LabeledBatch data = trainingBatch(g, batch);
        Tensor x = data.x();
        int[] labels = data.labels();
        TrainConfig config = trainStepConfig(batch);
        try (TrainStep step = new TrainStep(g, backend, config)) {
            double lr = config.lr();
            // on a device, downloading the (tiny) probabilities waits for the step's last kernels
            Tensor hostProbs = backend.isHost() ? null : Tensor.zeros(step.probs().shape());
            Result r = time(model, backend, batch, warmup, warmupSeconds, iters, progress, () -> {
                step.run(x, labels, lr);
                if (hostProbs != null) backend.download(step.probs(), hostProbs);
            });
            step.executor().syncParamsToHost();
            return r;
        }
    }

    /** A host batch and its labels. */
    record LabeledBatch(Tensor x, int[] labels) {
    }

    /** The seeded batch {@link #train} uses: inputs uniform in [-1, 1), labels uniform over the model's classes. */
    static LabeledBatch trainingBatch(Graph g, int batch) {
        int classes = DataChecks.outputs(g);
        Rng rng = new Rng(42);
        Tensor x = rng.uniform(batchShape(g, batch));
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(classes);
        return new LabeledBatch(x, labels);
    }

    private static Shape batchShape(Graph g, int batch) {
        Shape in = g.inputShape();
        int[] d = new int[in.rank() + 1];
        d[0] = batch;
        for (int i = 0; i < in.rank(); i++) d[i + 1] = in.dim(i);
        return new Shape(d);
    }

    /**
     * Untimed passes until at least {@code warmup} have run and {@code warmupSeconds} have passed, then {@code iters}
     * timed ones. Counting passes alone is not enough on the CPU: HotSpot's C2 compiles a method after ~10,000 calls,
     * so the per-op code that runs a few times a pass is compiled seconds into the run, each compilation taking a
     * core from the two the workers use (GoogLeNet-224 at batch 1 on 2 cores: ~100 ms a pass at first, ~20 after
     * 3 s, ~15 after 5 s, bursts of 40–55 ms while C2 compiles the convs' entry points 9–12 s in).
     */
    private static Result time(String model, Backend backend, int batch, int warmup, double warmupSeconds, int iters,
                               Consumer<String> progress, Runnable once) {
        if (!(warmupSeconds >= 0) || Double.isInfinite(warmupSeconds))
            throw new IllegalArgumentException("warm-up seconds must be finite and ≥ 0, got " + warmupSeconds);
        long start = System.nanoTime(), until = start + (long) (warmupSeconds * 1e9);
        int passes = 0;
        while (passes < warmup || System.nanoTime() - until < 0) {
            once.run();
            passes++;
            progress.accept(String.format("warm-up %d (%.1f s)", passes, (System.nanoTime() - start) / 1e9));
        }
        double warmedSeconds = (System.nanoTime() - start) / 1e9;
        double[] ms = new double[iters];
        for (int i = 0; i < iters; i++) {
            long t0 = System.nanoTime();
            once.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
            progress.accept(String.format("iter %d/%d %.2f ms", i + 1, iters, ms[i]));
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = percentile(sorted, 0.5);
        return new Result(model, backend.name(), batch, passes, warmedSeconds, iters, median, percentile(sorted, 0.1),
                percentile(sorted, 0.9), batch * 1000.0 / median, ms, false);
    }

    /** Linear interpolation between closest ranks (numpy's default) on a sorted array. */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
