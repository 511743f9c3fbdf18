package netslim.nn.models;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Shape;

/**
 * Inception v1 for 28–32 px inputs, as in kuangliu/pytorch-cifar and HRank (6.15 M parameters, 1.53 G MACs at
 * 3x32x32 and width 1): a 3x3 stem conv to 192 channels, modules a3, b3, max pool 3/2/1, a4 … e4, max pool, a5, b5,
 * global average pool, linear. Its third branch is 1x1 → 3x3 → 3x3 (a factorised 5x5). Every conv has a bias and is
 * followed by BN + ReLU. Node names are that code's module paths ({@code pre_layers.0}, {@code a3.b3.6},
 * {@code linear}).
 *
 * <p>Differences from that code: the final pool is global (it used a fixed AvgPool2d(8), which only fits 32 px; the
 * two agree at 32 px) so 28 px inputs work, and the input may have any number of channels.
 *
 * <p>Width multiplier: every channel count c (stem and all branch widths) becomes {@link #scaled}(c, w) =
 * max(1, round(c·w)) (Math.round, halves up); module inputs are the actual concatenated widths. Width 1 is the
 * original.
 */
public final class GoogLeNetCifar {
    private GoogLeNetCifar() {
    }

    /** The width rule: max(1, round(channels · width)). */
    public static int scaled(int channels, double width) {
        return (int) Math.max(1, Math.round(channels * width));
    }

    public static Graph build(Shape input, int numClasses, double width, long seed) {
        GraphBuilder b = new GraphBuilder("input", input);
        int channels = scaled(192, width);
        String x = ConvBnRelu.sequential(b, b.input(), ConvSpec.of(input.dim(0), channels, 3, 1, 1), "pre_layers", 0);
        for (InceptionSpec full : InceptionSpec.GOOGLENET) {
            InceptionSpec s = full.scaled(width);
            x = inception(b, x, channels, s);
            channels = s.out();
            // kuangliu applies one nn.MaxPool2d module twice; the graph needs two names
            if (s.stage().equals("3b")) x = b.maxPool("maxpool3", x, 3, 2, 1, false);
            if (s.stage().equals("4e")) x = b.maxPool("maxpool4", x, 3, 2, 1, false);
        }
        x = b.globalAvgPool("avgpool", x);
        x = b.flatten("flatten", x);
        x = b.linear("linear", x, channels, numClasses, true);
        Graph g = b.build(x);
        Init.apply(g, Init.Scheme.PYTORCH_DEFAULT, seed);
        return g;
    }

    /** Module "a3" for stage "3a" (kuangliu's names), branches b1 … b4 as nn.Sequential. */
    private static String inception(GraphBuilder b, String in, int cin, InceptionSpec s) {
        String p = "" + s.stage().charAt(1) + s.stage().charAt(0);
        String b1 = ConvBnRelu.sequential(b, in, ConvSpec.of(cin, s.n1x1(), 1, 1, 0), p + ".b1", 0);
        String b2 = ConvBnRelu.sequential(b, in, ConvSpec.of(cin, s.n3x3Reduce(), 1, 1, 0), p + ".b2", 0);
        b2 = ConvBnRelu.sequential(b, b2, ConvSpec.of(s.n3x3Reduce(), s.n3x3(), 3, 1, 1), p + ".b2", 3);
        String b3 = ConvBnRelu.sequential(b, in, ConvSpec.of(cin, s.n5x5Reduce(), 1, 1, 0), p + ".b3", 0);
        b3 = ConvBnRelu.sequential(b, b3, ConvSpec.of(s.n5x5Reduce(), s.n5x5(), 3, 1, 1), p + ".b3", 3);
        b3 = ConvBnRelu.sequential(b, b3, ConvSpec.of(s.n5x5(), s.n5x5(), 3, 1, 1), p + ".b3", 6);
        String b4 = b.maxPool(p + ".b4.0", in, 3, 1, 1, false);
        b4 = ConvBnRelu.sequential(b, b4, ConvSpec.of(cin, s.poolProj(), 1, 1, 0), p + ".b4", 1);
        return b.concat(p + ".concat", b1, b2, b3, b4);
    }
}
