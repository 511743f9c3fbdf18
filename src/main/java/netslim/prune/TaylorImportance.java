package netslim.prune;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Member;
import netslim.prune.ChannelGroups.Role;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The Taylor criteria (see {@link Importance}): forward, mean cross-entropy and backward on each batch in training
 * mode, on a copy of the model, then per channel either |mean_n mean_hw (∂L/∂z · z)| on the producers' feature maps
 * (Molchanov 2017) or Σ (w · ∂L/∂w)² over the producers' filters (Molchanov 2019). Per-batch values are averaged.
 */
final class TaylorImportance implements Importance {
    private final Iterable<LabeledBatch> batches;
    private final int maxBatches;
    private final Backend backend;
    private final boolean weight;

    TaylorImportance(Iterable<LabeledBatch> batches, int maxBatches, Backend backend, boolean weight) {
        if (maxBatches <= 0) throw new NetslimException("the number of ranking batches must be ≥ 1, got " + maxBatches);
        this.batches = batches;
        this.maxBatches = maxBatches;
        this.backend = backend;
        this.weight = weight;
    }

    @Override
    public String name() {
        return (weight ? Criterion.TAYLOR_WEIGHT : Criterion.TAYLOR).cliName();
    }

    @Override
    public Map<Integer, double[]> scores(Graph graph, ChannelGroups groups) {
        Graph copy = graph.copy(); // training-mode BatchNorm updates running statistics: keep the caller's intact
        Map<Integer, double[]> sums = new LinkedHashMap<>();
        for (Group g : groups.prunable()) sums.put(g.id(), new double[g.width()]);
        Map<String, String> featureOf = featureMaps(copy, groups);
        Map<Integer, Executor> executors = new HashMap<>();
        int count = 0;
        try {
            for (LabeledBatch b : batches) {
                if (count == maxBatches) break;
                Executor ex = executors.computeIfAbsent(b.size(), n -> new Executor(copy, backend, n, Executor.Mode.TRAINING));
                forwardBackward(ex, b);
                for (Group g : groups.prunable()) accumulate(ex, g, featureOf, sums.get(g.id()));
                count++;
            }
        } finally {
            executors.values().forEach(Executor::close);
        }
        if (count == 0) throw new NetslimException("criterion " + name() + " got no data batches");
        for (double[] s : sums.values()) for (int i = 0; i < s.length; i++) s[i] /= count;
        return sums;
    }

    /** Producer conv → the node whose output is its feature map: its BatchNorm if that is its only reader. */
    private static Map<String, String> featureMaps(Graph g, ChannelGroups groups) {
        Map<String, String> out = new HashMap<>();
        for (Group grp : groups.prunable()) {
            for (Member m : grp.members()) {
                if (m.role() != Role.PRODUCER && m.role() != Role.DEPTHWISE) continue;
                List<Node> readers = g.consumers(m.node());
                boolean bn = readers.size() == 1 && readers.get(0).layer() instanceof Layer.BatchNorm2d;
                out.put(m.node(), bn ? readers.get(0).name() : m.node());
            }
        }
        return out;
    }

    private void forwardBackward(Executor ex, LabeledBatch b) {
        Graph g = ex.graph();
        for (String name : g.params().names()) {
            if (!ParamStore.isBuffer(name)) backend.fill(ex.paramGrad(name), 0f);
        }
        Tensor logits = ex.forward(b.x());
        if (logits.shape().rank() != 2 || logits.shape().dim(0) != b.size()) {
            throw new NetslimException("the model's output has shape " + logits.shape()
                    + "; the Taylor criteria need a classifier with outputs (N, classes)");
        }
        Tensor probs = backend.allocate(logits.shape()), dlogits = backend.allocate(logits.shape());
        backend.softmaxCrossEntropy(logits, b.labels(), 0f, probs);
        backend.fill(dlogits, 0f);
        backend.softmaxCrossEntropyBackward(probs, b.labels(), 0f, 1f, dlogits);
        ex.backward(dlogits);
        if (weight) ex.syncGradsToHost();
    }

    private void accumulate(Executor ex, Group g, Map<String, String> featureOf, double[] sums) {
        ParamStore p = ex.graph().params();
        for (Member m : g.members()) {
            if (m.role() != Role.PRODUCER && m.role() != Role.DEPTHWISE) continue;
            if (weight) {
                Tensor w = p.get(m.node() + ".weight"), dw = p.grad(m.node() + ".weight");
                for (int i = 0; i < m.channels().length; i++) {
                    sums[m.indices()[i]] += Slices.rowProductSquares(w, dw, m.channels()[i]);
                }
            } else {
                String f = featureOf.get(m.node());
                Tensor z = host(ex.activation(f)), dz = host(ex.activationGrad(f));
                for (int i = 0; i < m.channels().length; i++) {
                    sums[m.indices()[i]] += Math.abs(meanProduct(z, dz, m.channels()[i]));
                }
            }
        }
    }

    /** mean over n of (mean over h, w of z·dz) for channel c of (N, C, H, W) tensors, in double. */
    static double meanProduct(Tensor z, Tensor dz, int c) {
        Shape s = z.shape();
        int n = s.dim(0), ch = s.dim(1), hw = s.dim(2) * s.dim(3);
        float[] a = z.data(), b = dz.data();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int o = (i * ch + c) * hw;
            for (int j = 0; j < hw; j++) sum += (double) a[z.offset() + o + j] * b[dz.offset() + o + j];
        }
        return sum / ((double) n * hw);
    }

    private Tensor host(Tensor t) {
        if (t.isHost()) return t;
        Tensor h = Tensor.zeros(t.shape());
        backend.download(t, h);
        return h;
    }
}
