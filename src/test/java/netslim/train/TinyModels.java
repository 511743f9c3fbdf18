package netslim.train;

import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** Small graphs for trainer tests, with seeded weights. */
public final class TinyModels {
    private TinyModels() {
    }

    /**
     * conv 3x3 (1→c, bias) → BN → ReLU → max pool 2 → conv 3x3 (c→c, no bias) → BN → ReLU → global pool → dropout
     * → linear (bias): every kind of parameter the weight-decay rules distinguish, and a dropout so the executor's
     * RNG matters.
     */
    public static Graph convNet(int side, int channels, int classes, float dropout, long seed) {
        GraphBuilder b = new GraphBuilder("input", Shape.of(1, side, side));
        String x = b.conv("conv1", b.input(), 1, channels, 3, 1, 1, true);
        x = b.bn("bn1", x, channels);
        x = b.relu("relu1", x);
        x = b.maxPool("pool1", x, 2, 2, 0, false);
        x = b.conv("conv2", x, channels, channels, 3, 1, 1, false);
        x = b.bn("bn2", x, channels);
        x = b.relu("relu2", x);
        x = b.globalAvgPool("gap", x);
        x = b.flatten("flat", x);
        if (dropout > 0) x = b.dropout("drop", x, dropout);
        x = b.linear("fc", x, channels, classes, true);
        Graph g = b.build(x);
        Rng rng = new Rng(seed);
        for (String name : g.params().names()) {
            Tensor t = g.params().get(name);
            if (name.startsWith("conv") && name.endsWith(".weight") || name.equals("fc.weight")) {
                int fanIn = t.size() / t.shape().dim(0);
                rng.fillUniform(t, -1f / (float) Math.sqrt(fanIn), 1f / (float) Math.sqrt(fanIn));
            }
        }
        return g;
    }
}
