package netslim.nn.models;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Shape;

/**
 * VGG-11 with BatchNorm for small images (cfg 64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M; Simonyan &amp;
 * Zisserman 2015, CIFAR layout of kuangliu/pytorch-cifar): 3x3 convs with bias, each followed by BN + ReLU, then
 * Linear(512, classes). Node names are that code's module paths ({@code features.0}, {@code features.1}, …,
 * {@code classifier}).
 *
 * <p>28 px inputs: the 2x2 max pools use ceil mode (28 → 14 → 7 → 4 → 2 → 1; at 32 px ceil and floor agree), and a
 * global average pool sits before the classifier, so the features are 512 wide at any input size (at 28 and 32 px
 * the map is already 1x1 and the pool is the identity).
 */
public final class Vgg11Cifar {
    /** Output channels per conv; 0 marks a 2x2 max pool. */
    private static final int[] CFG = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};

    private Vgg11Cifar() {
    }

    public static Graph build(Shape input, int numClasses, long seed) {
        GraphBuilder b = new GraphBuilder("input", input);
        String x = b.input();
        int channels = input.dim(0);
        int index = 0; // position in nn.Sequential "features"
        for (int v : CFG) {
            if (v == 0) {
                x = b.maxPool("features." + index, x, 2, 2, 0, true);
                index += 1;
            } else {
                x = ConvBnRelu.sequential(b, x, ConvSpec.of(channels, v, 3, 1, 1), "features", index);
                channels = v;
                index += 3;
            }
        }
        x = b.globalAvgPool("avgpool", x);
        x = b.flatten("flatten", x);
        x = b.linear("classifier", x, channels, numClasses, true);
        Graph g = b.build(x);
        Init.apply(g, Init.Scheme.PYTORCH_DEFAULT, seed);
        return g;
    }
}
