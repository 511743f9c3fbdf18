package netslim.nn.models;

import netslim.backend.ConvSpec;
import netslim.nn.GraphBuilder;

/** Conv2d → BatchNorm2d → ReLU with explicit node names: the unit every zoo model repeats. */
final class ConvBnRelu {
    private ConvBnRelu() {
    }

    /** Adds the three nodes and returns the ReLU's name. */
    static String add(GraphBuilder b, String in, ConvSpec spec, boolean bias, float eps,
                      String convName, String bnName, String reluName) {
        String x = b.conv(convName, in, spec, bias);
        x = b.bn(bnName, x, spec.outChannels(), eps);
        return b.relu(reluName, x);
    }

    /**
     * The nn.Sequential layout of kuangliu/pytorch-cifar: modules {@code prefix.i}, {@code prefix.(i+1)},
     * {@code prefix.(i+2)} (conv with bias, BN with eps 1e-5, ReLU).
     */
    static String sequential(GraphBuilder b, String in, ConvSpec spec, String prefix, int index) {
        return add(b, in, spec, true, 1e-5f, prefix + "." + index, prefix + "." + (index + 1),
                prefix + "." + (index + 2));
    }
}
