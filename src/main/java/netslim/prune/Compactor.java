package netslim.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.prune.ChannelGroups.TensorChannels;
import netslim.tensor.Tensor;

/**
 * Compaction: a new, smaller graph without the channels of a {@link ChannelMask}. One rewrite per layer kind:
 * an ordinary conv loses weight rows and bias entries (its out-channels) and weight columns along axis 1 (its
 * in-channels — through concats at the channel's offset in the concatenated tensor); a depthwise conv loses rows,
 * bias entries and as many groups; a BatchNorm loses γ, β, running mean and variance entries; a Linear loses the
 * input columns of each removed channel ({@code unit} = H·W of them after a flatten of a spatial map). Pass-through
 * layers are unchanged: their shapes follow. Node names, order and metadata are kept.
 *
 * <p>On a masked model (see {@link ChannelMask#apply}) the compacted graph computes the same function: the removed
 * slots were exactly zero and contributed exactly zero to every consumer.
 */
public final class Compactor {
    private Compactor() {
    }

    /** Compacts the channels {@link ChannelMask#detect} finds masked in {@code graph}. */
    public static Graph compact(Graph graph) {
        ChannelGroups groups = ChannelGroups.of(graph);
        return compact(graph, groups, ChannelMask.detect(graph, groups));
    }

    /** A new graph without the channels of {@code mask}; {@code graph} is not changed. */
    public static Graph compact(Graph graph, ChannelGroups groups, ChannelMask mask) {
        boolean[][] gone = new boolean[groups.groups().size()][];
        for (ChannelGroups.Group g : groups.groups()) {
            gone[g.id()] = mask.flags(g);
            if (!g.prunable() && mask.removed(g.id()).length > 0) {
                throw new IllegalArgumentException(g + " cannot lose channels");
            }
        }
        ParamStore in = graph.params(), out = new ParamStore();
        List<Node> nodes = new ArrayList<>();
        for (Node n : graph.nodes()) {
            int[] keepOut = kept(groups.tensor(n.name()), gone);
            TensorChannels input = groups.tensor(n.inputs().get(0));
            int[] keepIn = kept(input, gone);
            Layer l = rewrite(n, keepIn, keepOut, input.unit(), in, out);
            nodes.add(new Node(n.name(), l, n.inputs()));
        }
        Graph g = graph.withNodes(nodes, graph.outputName(), out);
        g.validateParams();
        g.shapes(1);
        return g;
    }

    /** Channels of a tensor that stay, in order. */
    private static int[] kept(TensorChannels t, boolean[][] gone) {
        int[] keep = new int[t.channels()];
        int n = 0;
        for (int c = 0; c < t.channels(); c++) if (!gone[t.group()[c]][t.index()[c]]) keep[n++] = c;
        if (n == 0) throw new IllegalArgumentException("compaction would leave " + t.tensor() + " with no channel");
        return java.util.Arrays.copyOf(keep, n);
    }

    private static Layer rewrite(Node n, int[] keepIn, int[] keepOut, int inUnit, ParamStore in, ParamStore out) {
        String name = n.name();
        Layer l = n.layer();
        if (l instanceof Layer.Conv2d c) {
            ConvSpec s = c.spec();
            ConvSpec spec;
            Tensor w = in.get(name + ".weight");
            if (s.groups() == 1) {
                spec = s.withChannels(keepIn.length, keepOut.length);
                w = Slices.select(Slices.select(w, 0, keepOut), 1, keepIn);
            } else if (s.isDepthwise()) {
                int k = keepOut.length;
                spec = new ConvSpec(k, k, s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(),
                        s.dilationH(), s.dilationW(), k);
                w = Slices.select(w, 0, keepOut);
            } else {
                if (keepIn.length != s.inChannels() || keepOut.length != s.outChannels()) {
                    throw new IllegalStateException("grouped conv " + name + " would lose channels");
                }
                spec = s;
                w = w.copy();
            }
            out.put(name + ".weight", w);
            if (c.bias()) out.put(name + ".bias", Slices.select(in.get(name + ".bias"), 0, keepOut));
            return new Layer.Conv2d(spec, c.bias());
        }
        if (l instanceof Layer.BatchNorm2d bn) {
            for (String suffix : bn.params().keySet()) {
                out.put(name + "." + suffix, Slices.select(in.get(name + "." + suffix), 0, keepOut));
            }
            return new Layer.BatchNorm2d(keepOut.length, bn.eps(), bn.momentum());
        }
        if (l instanceof Layer.Linear lin) {
            int[] cols = Slices.columns(keepIn, inUnit);
            out.put(name + ".weight", Slices.select(in.get(name + ".weight"), 1, cols));
            if (lin.bias()) out.put(name + ".bias", in.get(name + ".bias").copy());
            return new Layer.Linear(cols.length, lin.out(), lin.bias());
        }
        for (Map.Entry<String, ?> e : l.params().entrySet()) {
            out.put(name + "." + e.getKey(), in.get(name + "." + e.getKey()).copy());
        }
        return l;
    }
}
