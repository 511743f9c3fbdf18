package netslim.nn.models;

import java.util.List;

/**
 * Output widths of one Inception module of GoogLeNet (Szegedy et al. 2015, table 1): the 1x1 branch, the 3x3
 * branch (reduce, 3x3), the "5x5" branch (reduce, out) and the pool-projection branch. The input width is not
 * stored: it is whatever the previous layer produced.
 */
record InceptionSpec(String stage, int n1x1, int n3x3Reduce, int n3x3, int n5x5Reduce, int n5x5, int poolProj) {

    /** GoogLeNet's nine modules, stages 3a … 5b (shared by torchvision's model and the CIFAR variant). */
    static final List<InceptionSpec> GOOGLENET = List.of(
            new InceptionSpec("3a", 64, 96, 128, 16, 32, 32),
            new InceptionSpec("3b", 128, 128, 192, 32, 96, 64),
            new InceptionSpec("4a", 192, 96, 208, 16, 48, 64),
            new InceptionSpec("4b", 160, 112, 224, 24, 64, 64),
            new InceptionSpec("4c", 128, 128, 256, 24, 64, 64),
            new InceptionSpec("4d", 112, 144, 288, 32, 64, 64),
            new InceptionSpec("4e", 256, 160, 320, 32, 128, 128),
            new InceptionSpec("5a", 256, 160, 320, 32, 128, 128),
            new InceptionSpec("5b", 384, 192, 384, 48, 128, 128));

    /** Channels of the concatenated output. */
    int out() {
        return n1x1 + n3x3 + n5x5 + poolProj;
    }

    /** Every width scaled by {@link GoogLeNetCifar#scaled}. */
    InceptionSpec scaled(double width) {
        return new InceptionSpec(stage, GoogLeNetCifar.scaled(n1x1, width), GoogLeNetCifar.scaled(n3x3Reduce, width),
                GoogLeNetCifar.scaled(n3x3, width), GoogLeNetCifar.scaled(n5x5Reduce, width),
                GoogLeNetCifar.scaled(n5x5, width), GoogLeNetCifar.scaled(poolProj, width));
    }
}
