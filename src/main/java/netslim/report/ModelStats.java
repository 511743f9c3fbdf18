package netslim.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;

/**
 * Parameters and MACs of a model, per layer and in total.
 *
 * <p>Convention (stated in every report): MACs count the multiply-adds of convolutions and linear layers only,
 * {@code kh·kw·(in/groups)·out·outH·outW} per conv and {@code in·out} per linear, per image; bias adds, BatchNorm,
 * activations and pooling are not counted. Parameters are the trainable tensors (weights, biases, BatchNorm γ and
 * β) as PyTorch's {@code sum(p.numel() for p in model.parameters())} counts them; running statistics are not.
 */
public record ModelStats(String model, Shape input, long params, long macs, List<LayerStats> layers) {

    public static final String MAC_CONVENTION =
            "MACs = multiply-adds of conv and linear layers per image (bias adds, BN, activations, pooling excluded)";

    /** One row of the per-layer table. Kernel and stride are [h, w]; absent values are null. */
    public record LayerStats(String name, String kind, Integer inChannels, Integer outChannels, int[] kernel,
                             int[] stride, Integer groups, Shape outputShape, long params, long macs) {
    }

    public static ModelStats of(String model, Graph g) {
        Map<String, Shape> shapes = g.shapes(1);
        List<LayerStats> rows = new ArrayList<>();
        long totalParams = 0, totalMacs = 0;
        for (Node n : g.nodes()) {
            Shape out = shapes.get(n.name());
            Shape in = shapes.get(n.inputs().get(0));
            long p = trainableParams(g, n);
            long m = macs(n.layer(), out);
            totalParams += p;
            totalMacs += m;
            rows.add(row(n, in, out, p, m));
        }
        return new ModelStats(model, g.inputShape(), totalParams, totalMacs, rows);
    }

    private static long trainableParams(Graph g, Node n) {
        long p = 0;
        for (String suffix : n.layer().params().keySet()) {
            String name = n.name() + "." + suffix;
            if (!ParamStore.isBuffer(name)) p += g.params().get(name).shape().numel();
        }
        return p;
    }

    /** Multiply-adds of one layer for one image, by the convention of {@link #MAC_CONVENTION}. */
    public static long macs(Layer l, Shape out) {
        return Layer.macs(l, out);
    }

    private static LayerStats row(Node n, Shape in, Shape out, long params, long macs) {
        Layer l = n.layer();
        Shape perImage = out.with(0, 1);
        if (l instanceof Layer.Conv2d c) {
            ConvSpec s = c.spec();
            return new LayerStats(n.name(), l.kind(), s.inChannels(), s.outChannels(), new int[] {s.kh(), s.kw()},
                    new int[] {s.strideH(), s.strideW()}, s.groups(), perImage, params, macs);
        }
        if (l instanceof Layer.Linear lin) {
            return new LayerStats(n.name(), l.kind(), lin.in(), lin.out(), null, null, null, perImage, params, macs);
        }
        if (l instanceof Layer.MaxPool2d p) {
            return new LayerStats(n.name(), l.kind(), in.c(), out.c(), new int[] {p.spec().kh(), p.spec().kw()},
                    new int[] {p.spec().strideH(), p.spec().strideW()}, null, perImage, params, macs);
        }
        if (l instanceof Layer.AvgPool2d p) {
            return new LayerStats(n.name(), l.kind(), in.c(), out.c(), new int[] {p.spec().kh(), p.spec().kw()},
                    new int[] {p.spec().strideH(), p.spec().strideW()}, null, perImage, params, macs);
        }
        Integer inC = in.rank() == 4 ? in.c() : null;
        Integer outC = out.rank() >= 2 ? out.dim(1) : null;
        return new LayerStats(n.name(), l.kind(), inC, outC, null, null, null, perImage, params, macs);
    }
}
