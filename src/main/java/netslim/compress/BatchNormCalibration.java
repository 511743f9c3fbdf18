package netslim.compress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.backend.Backend;
import netslim.data.Augmentation;
import netslim.data.Batch;
import netslim.data.Dataset;
import netslim.data.Epoch;
import netslim.data.Loader;
import netslim.data.LoaderOptions;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.tensor.Rng;
import netslim.tensor.Tensor;

/**
 * Re-estimates every BatchNorm's running mean and variance of a compressed model from training images, forward
 * passes only. Why: pruning removes input channels of the next conv and Tucker-2 approximates a conv, so the
 * statistics each BatchNorm sees change, while its running statistics still describe the original model; a short
 * fine-tune (a few dozen steps at momentum 0.1) leaves them mostly stale. Training-mode accuracy is then fine but
 * inference-mode accuracy can fall to chance — measured here: googlenet-cifar w0.25 pruned 40 %, fine-tuned 16 steps,
 * 59 % train accuracy and 9.8 % test top-1 before this step. The estimate is the plain average over the batches of
 * each batch's mean and unbiased variance (PyTorch's {@code momentum=None} cumulative average), each BatchNorm
 * seeing the batch statistics of the layers before it, as in training.
 */
public final class BatchNormCalibration {
    private BatchNormCalibration() {
    }

    /**
     * Recalibrates {@code g} in place from the first {@code maxImages} images of {@code data} (full batches of
     * {@code batch}; normalised with the dataset's default, unaugmented). Returns the number of images used (0 when the
     * graph has no BatchNorm or there is not one full batch).
     */
    public static int recalibrate(Graph g, Backend backend, Dataset data, int batch, int maxImages) {
        List<Node> bns = g.nodes().stream().filter(n -> n.layer() instanceof Layer.BatchNorm2d).toList();
        int b = Math.min(batch, data.size()), batches = b == 0 ? 0 : Math.min(maxImages, data.size()) / b;
        if (bns.isEmpty() || batches == 0) return 0;
        // A twin with momentum 1 shares the parameter tensors: each training-mode forward writes that batch's
        // statistics into the running buffers, which are read back and averaged.
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            nodes.add(n.layer() instanceof Layer.BatchNorm2d bn
                    ? new Node(n.name(), new Layer.BatchNorm2d(bn.channels(), bn.eps(), 1f), n.inputs()) : n);
        }
        Graph twin = g.withNodes(nodes, g.outputName(), g.params());
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (Node n : bns) {
            for (String s : new String[] {".running_mean", ".running_var"}) {
                sums.put(n.name() + s, new double[((Layer.BatchNorm2d) n.layer()).channels()]);
            }
        }
        LoaderOptions o = LoaderOptions.evaluation(data, b).withDropLast(true).withAugmentation(Augmentation.NONE)
                .withNormalization(data.defaultNormalization());
        int used = 0;
        try (Loader loader = new Loader(data, o); Executor ex = new Executor(twin, backend, b, Executor.Mode.TRAINING);
             Epoch epoch = loader.epoch(0)) {
            ex.setRng(new Rng(0)); // dropout after the last BatchNorm does not affect the statistics
            for (int k = 0; k < batches && epoch.hasNext(); k++) {
                Batch batchData = epoch.next();
                ex.forward(batchData.x());
                ex.syncParamsToHost();
                for (Map.Entry<String, double[]> e : sums.entrySet()) {
                    Tensor t = g.params().get(e.getKey());
                    for (int c = 0; c < e.getValue().length; c++) e.getValue()[c] += t.get(c);
                }
                used += b;
            }
        }
        int n = used / b;
        for (Map.Entry<String, double[]> e : sums.entrySet()) {
            Tensor t = g.params().get(e.getKey());
            for (int c = 0; c < e.getValue().length; c++) t.set(c, (float) (e.getValue()[c] / n));
        }
        return used;
    }
}
