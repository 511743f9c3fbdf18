package netslim.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import netslim.NetslimException;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Named parameters and buffers of a graph ({@code node.suffix}, as in a PyTorch state dict), each with a gradient
 * tensor allocated on first use. Buffers (BatchNorm running statistics) have no gradient and are not trained.
 */
public final class ParamStore {
    private final Map<String, Tensor> values = new LinkedHashMap<>();
    private final Map<String, Tensor> grads = new LinkedHashMap<>();

    public void put(String name, Tensor value) {
        values.put(name, value);
        grads.remove(name);
    }

    public Tensor get(String name) {
        Tensor t = values.get(name);
        if (t == null) throw new NetslimException("missing parameter " + name);
        return t;
    }

    public Tensor getOrNull(String name) {
        return values.get(name);
    }

    public boolean contains(String name) {
        return values.containsKey(name);
    }

    public Tensor remove(String name) {
        grads.remove(name);
        return values.remove(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    public Map<String, Tensor> values() {
        return Collections.unmodifiableMap(values);
    }

    /** The gradient of a trainable parameter (same shape, zero on creation). */
    public Tensor grad(String name) {
        if (isBuffer(name)) throw new IllegalArgumentException(name + " is a buffer and has no gradient");
        return grads.computeIfAbsent(name, n -> Tensor.zeros(get(n).shape()));
    }

    public void zeroGrads() {
        for (Tensor g : grads.values()) g.fill(0f);
    }

    /** True for non-trainable state (BatchNorm running mean and variance). */
    public static boolean isBuffer(String name) {
        return name.endsWith(".running_mean") || name.endsWith(".running_var");
    }

    /** Total number of elements of trainable parameters and buffers alike (as PyTorch's state dict counts). */
    public long totalElements() {
        long n = 0;
        for (Tensor t : values.values()) n += t.shape().numel();
        return n;
    }

    /** Deep copy of all values (gradients are not copied). */
    public ParamStore copy() {
        ParamStore p = new ParamStore();
        values.forEach((k, v) -> p.put(k, v.copy()));
        return p;
    }

    static void checkShape(String name, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new NetslimException("parameter " + name + " has shape " + t.shape() + ", the graph expects " + expected);
        }
    }
}
