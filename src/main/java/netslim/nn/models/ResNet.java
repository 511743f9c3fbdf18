package netslim.nn.models;

import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Shape;

/**
 * Residual networks of basic blocks (He et al. 2016), with torchvision's module paths as node names
 * ({@code layer2.0.conv1}, {@code layer2.0.downsample.0}, {@code fc}): {@link #resnet18} is torchvision's resnet18
 * exactly (11,689,512 parameters at 1000 classes); {@link #resnet20Cifar} is the paper's CIFAR ResNet-20 (16/32/64
 * channels, 3 blocks per stage, 0.27 M parameters) with 1x1 conv + BN projection shortcuts where the shape changes.
 */
public final class ResNet {
    private ResNet() {
    }

    /** torchvision resnet18: 7x7/2 stem, max pool 3/2/1, stages of 2 blocks at 64, 128, 256, 512 channels. */
    public static Graph resnet18(Shape input, int numClasses, long seed) {
        GraphBuilder b = new GraphBuilder("input", input);
        String x = ConvBnRelu.add(b, b.input(), ConvSpec.of(input.dim(0), 64, 7, 2, 3), false, 1e-5f,
                "conv1", "bn1", "relu");
        x = b.maxPool("maxpool", x, 3, 2, 1, false);
        x = stages(b, x, 64, new int[] {64, 128, 256, 512}, 2);
        Graph g = head(b, x, 512, numClasses);
        Init.apply(g, Init.Scheme.KAIMING_NORMAL_FAN_OUT, seed);
        return g;
    }

    /** CIFAR ResNet-20: 3x3 stem to 16 channels, stages of 3 blocks at 16, 32, 64 channels; PyTorch default init. */
    public static Graph resnet20Cifar(Shape input, int numClasses, long seed) {
        GraphBuilder b = new GraphBuilder("input", input);
        String x = ConvBnRelu.add(b, b.input(), ConvSpec.of(input.dim(0), 16, 3, 1, 1), false, 1e-5f,
                "conv1", "bn1", "relu");
        x = stages(b, x, 16, new int[] {16, 32, 64}, 3);
        Graph g = head(b, x, 64, numClasses);
        Init.apply(g, Init.Scheme.PYTORCH_DEFAULT, seed);
        return g;
    }

    /** Stages layer1 … layerN; every stage but the first starts with a stride-2 block. */
    private static String stages(GraphBuilder b, String x, int cin, int[] widths, int blocksPerStage) {
        for (int s = 0; s < widths.length; s++) {
            for (int i = 0; i < blocksPerStage; i++) {
                int stride = s > 0 && i == 0 ? 2 : 1;
                x = basicBlock(b, x, "layer" + (s + 1) + "." + i, cin, widths[s], stride);
                cin = widths[s];
            }
        }
        return x;
    }

    /**
     * conv3x3 → BN → ReLU → conv3x3 → BN, plus the shortcut (identity, or 1x1 conv + BN when stride or width
     * changes), then ReLU. torchvision applies one ReLU module twice; here they are {@code relu1} and {@code relu2}.
     */
    private static String basicBlock(GraphBuilder b, String in, String p, int cin, int cout, int stride) {
        String y = ConvBnRelu.add(b, in, ConvSpec.of(cin, cout, 3, stride, 1), false, 1e-5f,
                p + ".conv1", p + ".bn1", p + ".relu1");
        y = b.conv(p + ".conv2", y, ConvSpec.of(cout, cout, 3, 1, 1), false);
        y = b.bn(p + ".bn2", y, cout);
        String shortcut = in;
        if (stride != 1 || cin != cout) {
            shortcut = b.conv(p + ".downsample.0", in, ConvSpec.of(cin, cout, 1, stride, 0), false);
            shortcut = b.bn(p + ".downsample.1", shortcut, cout);
        }
        String sum = b.sum(p + ".add", y, shortcut);
        return b.relu(p + ".relu2", sum);
    }

    private static Graph head(GraphBuilder b, String x, int channels, int numClasses) {
        x = b.globalAvgPool("avgpool", x);
        x = b.flatten("flatten", x);
        return b.build(b.linear("fc", x, channels, numClasses, true));
    }
}
