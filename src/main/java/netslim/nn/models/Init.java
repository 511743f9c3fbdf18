package netslim.nn.models;

import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Seeded weight initialisation as PyTorch / torchvision define it. One {@link Rng} walks the graph's nodes in order,
 * so the same seed gives bit-identical tensors. Distributions match PyTorch's; the bits do not (different generator).
 */
public final class Init {
    private Init() {
    }

    /**
     * How Conv2d and Linear weights are drawn. In every scheme biases are U(±1/√fan_in) (PyTorch's default) and
     * BatchNorm is γ=1, β=0, running mean 0, running variance 1.
     */
    public enum Scheme {
        /** PyTorch's reset_parameters(): kaiming_uniform_(a=√5), i.e. U(±√(6/((1+5)·fan_in))) = U(±1/√fan_in). */
        PYTORCH_DEFAULT,
        /** torchvision GoogLeNet(init_weights=True): conv and linear weights trunc_normal_(0, 0.01, a=-2, b=2). */
        TRUNC_NORMAL_001,
        /** torchvision ResNet: conv kaiming_normal_(mode=fan_out, relu) = N(0, 2/fan_out); linear as the default. */
        KAIMING_NORMAL_FAN_OUT
    }

    /** Initialises every parameter and buffer of {@code graph} in place. */
    public static void apply(Graph graph, Scheme scheme, long seed) {
        Rng rng = new Rng(seed);
        ParamStore p = graph.params();
        for (Node n : graph.nodes()) {
            String name = n.name();
            Layer layer = n.layer();
            if (layer instanceof Layer.Conv2d c) {
                weight(p.get(name + ".weight"), scheme, false, rng);
                if (c.bias()) defaultBias(p.get(name + ".bias"), fanIn(p.get(name + ".weight").shape()), rng);
            } else if (layer instanceof Layer.Linear lin) {
                weight(p.get(name + ".weight"), scheme, true, rng);
                if (lin.bias()) defaultBias(p.get(name + ".bias"), lin.in(), rng);
            } else if (layer instanceof Layer.BatchNorm2d) {
                p.get(name + ".weight").fill(1f);
                p.get(name + ".bias").fill(0f);
                p.get(name + ".running_mean").fill(0f);
                p.get(name + ".running_var").fill(1f);
            }
        }
    }

    private static void weight(Tensor w, Scheme scheme, boolean linear, Rng rng) {
        switch (scheme) {
            case TRUNC_NORMAL_001 -> truncatedNormal(w, 0.01, -2, 2, rng);
            case KAIMING_NORMAL_FAN_OUT -> {
                if (linear) defaultWeight(w, rng);
                else normal(w, Math.sqrt(2.0 / fanOut(w.shape())), rng);
            }
            case PYTORCH_DEFAULT -> defaultWeight(w, rng);
        }
    }

    /** PyTorch's default Conv2d / Linear weight: U(±1/√fan_in). */
    public static void defaultWeight(Tensor w, Rng rng) {
        uniform(w, 1 / Math.sqrt(fanIn(w.shape())), rng);
    }

    /** PyTorch's default Conv2d / Linear bias: U(±1/√fan_in) of the layer's weight. */
    public static void defaultBias(Tensor b, int fanIn, Rng rng) {
        uniform(b, 1 / Math.sqrt(fanIn), rng);
    }

    /** U(−bound, bound). */
    public static void uniform(Tensor t, double bound, Rng rng) {
        rng.fillUniform(t, (float) -bound, (float) bound);
    }

    /** N(0, std²). */
    public static void normal(Tensor t, double std, Rng rng) {
        rng.fillGaussian(t, 0f, (float) std);
    }

    /** N(0, std²) restricted to [lo, hi] (absolute bounds, as torch.nn.init.trunc_normal_), by rejection. */
    public static void truncatedNormal(Tensor t, double std, double lo, double hi, Rng rng) {
        if (!(lo < 0 && hi > 0)) throw new IllegalArgumentException("bounds must bracket the mean 0: " + lo + ", " + hi);
        for (int i = 0; i < t.size(); i++) {
            double x;
            do {
                x = std * rng.nextGaussian();
            } while (x < lo || x > hi);
            t.set(i, (float) x);
        }
    }

    /** fan_in of a weight (out, in/groups, kh, kw) or (out, in): every dimension but the first. */
    public static int fanIn(Shape weight) {
        return (int) (weight.numel() / weight.dim(0));
    }

    /** fan_out as PyTorch computes it: out × receptive field (kh·kw), not divided by groups. */
    public static int fanOut(Shape weight) {
        int receptive = 1;
        for (int i = 2; i < weight.rank(); i++) receptive *= weight.dim(i);
        return weight.dim(0) * receptive;
    }
}
