package netslim.nn.models;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Shape;

/**
 * torchvision's GoogLeNet (Inception v1) with {@code aux_logits=False, transform_input=False}, node for node: node
 * names are torchvision's module paths, so parameter names equal its state-dict keys ("conv1.conv.weight",
 * "inception3a.branch2.1.bn.running_var", "fc.bias"). Kept quirks: BatchNorm eps 0.001, ceil-mode max pools, and
 * branch3's "5x5" conv that is really 3x3 (pytorch/vision#906). 6,624,904 parameters at 1000 classes.
 */
public final class GoogLeNet {
    /** BasicConv2d's BatchNorm2d(eps=0.001). */
    private static final float BN_EPS = 0.001f;

    private GoogLeNet() {
    }

    /** Builds the graph for inputs {@code input} (C x H x W) with {@code numClasses} outputs, seeded init. */
    public static Graph build(Shape input, int numClasses, long seed) {
        GraphBuilder b = new GraphBuilder("input", input);
        String x = basicConv(b, b.input(), "conv1", ConvSpec.of(input.dim(0), 64, 7, 2, 3));
        x = b.maxPool("maxpool1", x, 3, 2, 0, true);
        x = basicConv(b, x, "conv2", ConvSpec.of(64, 64, 1, 1, 0));
        x = basicConv(b, x, "conv3", ConvSpec.of(64, 192, 3, 1, 1));
        x = b.maxPool("maxpool2", x, 3, 2, 0, true);
        int channels = 192;
        for (InceptionSpec spec : InceptionSpec.GOOGLENET) {
            x = inception(b, x, channels, spec);
            channels = spec.out();
            if (spec.stage().equals("3b")) x = b.maxPool("maxpool3", x, 3, 2, 0, true);
            if (spec.stage().equals("4e")) x = b.maxPool("maxpool4", x, 2, 2, 0, true);
        }
        x = b.globalAvgPool("avgpool", x); // nn.AdaptiveAvgPool2d((1, 1))
        x = b.flatten("flatten", x);
        x = b.dropout("dropout", x, 0.2f);
        x = b.linear("fc", x, channels, numClasses, true);
        Graph g = b.build(x);
        Init.apply(g, Init.Scheme.TRUNC_NORMAL_001, seed);
        return g;
    }

    /** torchvision's BasicConv2d: conv (no bias) → BN(eps 0.001) → ReLU as {@code prefix.conv/.bn/.relu}. */
    private static String basicConv(GraphBuilder b, String in, String prefix, ConvSpec spec) {
        return ConvBnRelu.add(b, in, spec, false, BN_EPS, prefix + ".conv", prefix + ".bn", prefix + ".relu");
    }

    private static String inception(GraphBuilder b, String in, int cin, InceptionSpec s) {
        String p = "inception" + s.stage();
        String b1 = basicConv(b, in, p + ".branch1", ConvSpec.of(cin, s.n1x1(), 1, 1, 0));
        String b2 = basicConv(b, in, p + ".branch2.0", ConvSpec.of(cin, s.n3x3Reduce(), 1, 1, 0));
        b2 = basicConv(b, b2, p + ".branch2.1", ConvSpec.of(s.n3x3Reduce(), s.n3x3(), 3, 1, 1));
        String b3 = basicConv(b, in, p + ".branch3.0", ConvSpec.of(cin, s.n5x5Reduce(), 1, 1, 0));
        // kernel_size=3 instead of 5: torchvision's known bug, kept so that its weights load
        b3 = basicConv(b, b3, p + ".branch3.1", ConvSpec.of(s.n5x5Reduce(), s.n5x5(), 3, 1, 1));
        String b4 = b.maxPool(p + ".branch4.0", in, 3, 1, 1, true);
        b4 = basicConv(b, b4, p + ".branch4.1", ConvSpec.of(cin, s.poolProj(), 1, 1, 0));
        return b.concat(p + ".concat", b1, b2, b3, b4);
    }
}
