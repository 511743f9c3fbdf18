package netslim.train;

import netslim.backend.Backend;
import netslim.data.Batch;
import netslim.data.Dataset;
import netslim.data.Epoch;
import netslim.data.Loader;
import netslim.data.LoaderOptions;
import netslim.data.Normalization;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Top-1, top-5, per-class accuracy, confusion matrix and mean loss of a graph on a dataset, with an INFERENCE
 * executor (BatchNorm on running statistics, no dropout). A last partial batch is zero-padded to the planned batch
 * size; the padding rows are not counted (in inference mode rows do not influence each other).
 */
public final class Evaluator implements AutoCloseable {
    private final Executor executor;
    private final Backend backend;
    private final int batch, classes;
    private final Tensor input;      // host, (B, C, H, W)
    private final Tensor probs;      // backend, (B, K)
    private final Tensor hostProbs;  // host copy for device backends

    public Evaluator(Graph graph, Backend backend, int batch) {
        this.executor = new Executor(graph, backend, batch, Executor.Mode.INFERENCE);
        this.backend = backend;
        this.batch = batch;
        Shape out = executor.shapes().get(graph.outputName());
        this.classes = out.dim(1);
        this.input = Tensor.zeros(executor.shapes().get(graph.inputName()));
        this.probs = backend.allocate(Shape.of(batch, classes));
        this.hostProbs = backend.isHost() ? probs : Tensor.zeros(Shape.of(batch, classes));
    }

    /** Re-reads the graph's host weights after training changed them (a no-op on host backends). */
    public void syncParams() {
        executor.syncParamsToDevice();
    }

    /** The dataset's test split in order, normalised with its default mean / std. */
    public EvalResult evaluate(Dataset data) {
        return evaluate(data, data.defaultNormalization());
    }

    public EvalResult evaluate(Dataset data, Normalization normalization) {
        LoaderOptions o = LoaderOptions.evaluation(data, batch).withNormalization(normalization);
        try (Loader loader = new Loader(data, o)) {
            return evaluate(loader);
        }
    }

    /** Evaluates one pass of {@code loader} (epoch 0; use an unshuffled, unaugmented loader). */
    public EvalResult evaluate(Loader loader) {
        Dataset data = loader.dataset();
        long[][] confusion = new long[data.numClasses()][data.numClasses()];
        long count = 0, top1 = 0, top5 = 0;
        double lossSum = 0;
        try (Epoch epoch = loader.epoch(0)) {
            while (epoch.hasNext()) {
                Batch b = epoch.next();
                int n = b.size();
                Tensor logits = forward(b);
                Tensor rows = new Tensor(Shape.of(n, classes), logits.storage(), logits.offset());
                Tensor p = new Tensor(Shape.of(n, classes), probs.storage(), probs.offset());
                lossSum += (double) backend.softmaxCrossEntropy(rows, b.labels(), 0f, p) * n;
                if (!backend.isHost()) backend.download(probs, hostProbs);
                for (int i = 0; i < n; i++) {
                    int label = b.labels()[i];
                    int rank = rankOfLabel(hostProbs, i, label);
                    if (rank == 0) top1++;
                    if (rank < 5) top5++;
                    confusion[label][argmax(hostProbs, i)]++;
                }
                count += n;
            }
        }
        double[] perClass = new double[data.numClasses()];
        for (int c = 0; c < perClass.length; c++) {
            long total = 0;
            for (long v : confusion[c]) total += v;
            perClass[c] = total == 0 ? Double.NaN : confusion[c][c] / (double) total;
        }
        return new EvalResult(count, top1 / (double) count, top5 / (double) count, lossSum / count, perClass,
                confusion, data.classNames());
    }

    private Tensor forward(Batch b) {
        if (b.size() == batch) return executor.forward(b.x());
        input.fill(0f);
        System.arraycopy(b.x().data(), b.x().offset(), input.data(), 0, b.x().size());
        return executor.forward(input);
    }

    /** Classes scored above the label, ties counted before it when their index is lower (as argmax picks). */
    static int rankOfLabel(Tensor p, int row, int label) {
        int k = p.shape().dim(1), base = row * k, rank = 0;
        float mine = p.get(base + label);
        if (Float.isNaN(mine)) return k; // a NaN score is never right
        for (int j = 0; j < k; j++) {
            float v = p.get(base + j);
            if (v > mine || (v == mine && j < label)) rank++;
        }
        return rank;
    }

    /** The first index of the row's maximum. */
    static int argmax(Tensor p, int row) {
        int k = p.shape().dim(1), base = row * k, best = 0;
        for (int j = 1; j < k; j++) if (p.get(base + j) > p.get(base + best)) best = j;
        return best;
    }

    @Override
    public void close() {
        executor.close();
    }
}
