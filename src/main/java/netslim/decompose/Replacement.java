package netslim.decompose;

import java.util.List;
import java.util.Map;

import netslim.backend.ConvSpec;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The nodes that take one conv's place (in order; the last keeps the conv's name, so consumers, a following
 * BatchNorm and any pruning metadata keyed by that name stay valid) and their parameters by full name.
 */
record Replacement(List<Node> nodes, Map<String, Tensor> params) {

    /** A 1x1 conv with no padding or dilation, stride 1 unless given. */
    static ConvSpec pointwise(int in, int out, int strideH, int strideW) {
        return new ConvSpec(in, out, 1, 1, strideH, strideW, 0, 0, 1, 1, 1);
    }

    static Node conv(String name, ConvSpec spec, boolean bias, String input) {
        return new Node(name, new Layer.Conv2d(spec, bias), List.of(input));
    }

    /** Multiply-adds of a conv for one image with output spatial size oh × ow (ModelStats' convention). */
    static long macs(ConvSpec s, int oh, int ow) {
        return s.macs(oh, ow);
    }

    static long macs(ConvSpec s, Shape out) {
        return macs(s, out.h(), out.w());
    }

    /** Weight plus bias elements of a conv. */
    static long params(ConvSpec s, boolean bias) {
        return (long) s.kh() * s.kw() * (s.inChannels() / s.groups()) * s.outChannels() + (bias ? s.outChannels() : 0);
    }
}
