package netslim.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.tensor.Tensor;

/**
 * Inference-time rewrite: every {@link Layer.BatchNorm2d} that directly follows a {@link Layer.Conv2d} whose output
 * nothing else reads (and that is not the graph output) is folded into that conv's weight and bias, using the
 * running statistics. With s = γ / √(var + ε) per output channel o:
 * <pre>
 *   W'[o, ...] = s[o] · W[o, ...]        b'[o] = s[o] · (b[o] − mean[o]) + β[o]      (b = 0 without a bias)
 * </pre>
 * computed in double and rounded once. The folded conv keeps the conv's name (so Tucker chains and other metadata
 * keyed by conv names stay valid) and always has a bias; the BatchNorm node disappears and its consumers read the
 * conv. Other BatchNorms are left alone. Only for inference: the result has no BatchNorm to train.
 *
 * <pre>{@code
 * Graph fast = BatchNormFolding.fold(model).graph();   // same function, fewer ops
 * }</pre>
 */
public final class BatchNormFolding {
    private BatchNormFolding() {
    }

    /** The folded graph and, for each folded conv, the name of the BatchNorm folded into it (in graph order). */
    public record Result(Graph graph, Map<String, String> folded) {
        public Result {
            folded = Collections.unmodifiableMap(new LinkedHashMap<>(folded));
        }
    }

    /** Folds every eligible conv → BatchNorm pair; the input graph is not changed (parameters are copied). */
    public static Result fold(Graph g) {
        Map<String, String> convToBn = eligiblePairs(g);
        Map<String, String> bnToConv = new HashMap<>();
        convToBn.forEach((conv, bn) -> bnToConv.put(bn, conv));
        ParamStore params = g.params().copy();
        List<Node> nodes = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (bnToConv.containsKey(n.name())) continue;
            List<String> inputs = n.inputs().stream().map(in -> bnToConv.getOrDefault(in, in)).toList();
            Layer layer = n.layer();
            String bn = convToBn.get(n.name());
            if (bn != null) {
                Layer.Conv2d conv = (Layer.Conv2d) layer;
                foldInto(params, n.name(), conv, bn, ((Layer.BatchNorm2d) g.node(bn).layer()).eps());
                layer = new Layer.Conv2d(conv.spec(), true);
            }
            nodes.add(new Node(n.name(), layer, inputs));
        }
        String output = bnToConv.getOrDefault(g.outputName(), g.outputName());
        return new Result(g.withNodes(nodes, output, params), convToBn);
    }

    /** conv name → BatchNorm name for every foldable pair. */
    private static Map<String, String> eligiblePairs(Graph g) {
        Map<String, Node> byName = new HashMap<>();
        for (Node n : g.nodes()) byName.put(n.name(), n);
        Map<String, String> pairs = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (!(n.layer() instanceof Layer.BatchNorm2d)) continue;
            String in = n.inputs().get(0);
            Node producer = byName.get(in);
            boolean foldable = producer != null && producer.layer() instanceof Layer.Conv2d
                    && !in.equals(g.outputName()) && g.consumers(in).size() == 1;
            if (foldable) pairs.put(in, n.name());
        }
        return pairs;
    }

    private static void foldInto(ParamStore params, String conv, Layer.Conv2d layer, String bn, float eps) {
        Tensor w = params.get(conv + ".weight"); // (out, in/groups, kh, kw)
        Tensor bias = params.getOrNull(conv + ".bias");
        Tensor gamma = params.get(bn + ".weight"), beta = params.get(bn + ".bias");
        Tensor mean = params.get(bn + ".running_mean"), var = params.get(bn + ".running_var");
        int out = layer.spec().outChannels();
        int perOut = w.size() / out;
        Tensor folded = Tensor.zeros(out);
        for (int o = 0; o < out; o++) {
            double s = gamma.get(o) / Math.sqrt((double) var.get(o) + eps);
            for (int i = o * perOut; i < (o + 1) * perOut; i++) w.set(i, (float) (s * w.get(i)));
            double b = bias == null ? 0 : bias.get(o);
            folded.set(o, (float) (s * (b - mean.get(o)) + beta.get(o)));
        }
        params.put(conv + ".bias", folded);
        for (String suffix : List.of("weight", "bias", "running_mean", "running_var")) params.remove(bn + "." + suffix);
    }
}
