package netslim.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.ParamStore;
import netslim.tensor.Tensor;

/**
 * SGD with momentum, Nesterov and weight decay over the trainable parameters of a training {@link Executor}, using
 * {@link Backend#sgdStep} (PyTorch's update). Holds one velocity tensor per parameter in the backend's memory; those
 * are the optimiser state a checkpoint saves. Weight decay skips BatchNorm γ/β and every bias unless asked
 * ({@link #decays}).
 */
public final class Sgd {
    private final Executor executor;
    private final Backend backend;
    private final TrainConfig config;
    private final List<String> trainable = new ArrayList<>();
    private final Map<String, Boolean> decay = new LinkedHashMap<>();
    private final Map<String, Tensor> velocity = new LinkedHashMap<>();

    public Sgd(Executor executor, TrainConfig config) {
        this.executor = executor;
        this.backend = executor.backend();
        this.config = config;
        Graph g = executor.graph();
        for (String name : g.params().names()) {
            if (ParamStore.isBuffer(name)) continue;
            trainable.add(name);
            decay.put(name, decays(g, name, config.decayNormAndBias()));
            if (config.momentum() > 0) velocity.put(name, backend.allocate(g.params().get(name).shape()));
        }
    }

    /**
     * Whether weight decay applies to parameter {@code name}: always when {@code normAndBias}; otherwise not to
     * biases (any {@code *.bias}) nor to BatchNorm parameters (γ is a scale: decaying it shrinks activations the next
     * BN undoes anyway, and it fights the normalisation), as in the usual "no_decay" parameter groups.
     */
    public static boolean decays(Graph g, String name, boolean normAndBias) {
        if (normAndBias) return true;
        if (name.endsWith(".bias")) return false;
        int dot = name.lastIndexOf('.');
        return !(dot > 0 && g.node(name.substring(0, dot)).layer() instanceof Layer.BatchNorm2d);
    }

    /** Trainable parameter names, in graph order. */
    public List<String> parameters() {
        return List.copyOf(trainable);
    }

    /** Zeroes every parameter gradient (the executor's backward adds into them). */
    public void zeroGrads() {
        for (String name : trainable) backend.fill(executor.paramGrad(name), 0f);
    }

    /** One update of every trainable parameter with learning rate {@code lr}. */
    public void step(double lr) {
        float m = (float) config.momentum(), wd = (float) config.weightDecay();
        for (String name : trainable) {
            backend.sgdStep(executor.param(name), executor.paramGrad(name), velocity.get(name), (float) lr, m,
                    decay.get(name) ? wd : 0f, config.nesterov());
        }
    }

    /**
     * The first parameter whose gradient holds a NaN or an infinity, or null. Host backends only (a device backend
     * would need a download per step; there the loss check catches the NaN one step later): returns null there.
     * A double sum of floats cannot overflow, so it is non-finite exactly when some element is.
     */
    public String firstNonFiniteGradient() {
        if (!backend.isHost()) return null;
        for (String name : trainable) {
            Tensor g = executor.paramGrad(name);
            float[] d = g.data();
            double sum = 0;
            for (int i = g.offset(), end = i + g.size(); i < end; i++) sum += d[i];
            if (!Double.isFinite(sum)) return name;
        }
        return null;
    }

    /** Host copies of the velocity tensors, by parameter name (empty without momentum). */
    public Map<String, Tensor> velocities() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : velocity.entrySet()) {
            Tensor host = Tensor.zeros(e.getValue().shape());
            backend.download(e.getValue(), host);
            out.put(e.getKey(), host);
        }
        return out;
    }

    /** Restores velocities saved by {@link #velocities()}; every parameter must be there with its shape. */
    public void loadVelocities(Map<String, Tensor> saved, String source) {
        for (Map.Entry<String, Tensor> e : velocity.entrySet()) {
            Tensor t = saved.get(e.getKey());
            if (t == null) throw new NetslimException(source + ": optimizer state for " + e.getKey() + " is missing");
            if (!t.shape().equals(e.getValue().shape())) {
                throw new NetslimException(source + ": optimizer state for " + e.getKey() + " has shape " + t.shape()
                        + ", the parameter has " + e.getValue().shape());
            }
            backend.upload(t, e.getValue());
        }
    }
}
