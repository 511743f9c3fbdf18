package netslim.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.nn.Layer;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * ONNX ops that become netslim layers other than the spatial ones: Relu, Clip, Concat, Add, Gemm, MatMul, Flatten,
 * Reshape (as a flatten) and Dropout.
 */
final class OnnxDenseOps {
    private OnnxDenseOps() {
    }

    static void relu(OnnxImport im, OnnxNode n) {
        n.allowAttributes();
        n.requireInputs(1, 1);
        im.addLayer(n, new Layer.Relu(), List.of(im.act(n, 0)), Map.of());
    }

    /** Clip: bounds are attributes up to opset 10 and optional constant inputs from opset 11; Clip(0, 6) is ReLU6. */
    static void clip(OnnxImport im, OnnxNode n) {
        n.allowAttributes("min", "max");
        n.requireInputs(1, 3);
        float lo = n.hasInput(1) ? im.scalar(n, 1) : n.real("min", Float.NEGATIVE_INFINITY);
        float hi = n.hasInput(2) ? im.scalar(n, 2) : n.real("max", Float.POSITIVE_INFINITY);
        im.addLayer(n, new Layer.Clip(lo, hi), List.of(im.act(n, 0)), Map.of());
    }

    /** Concat of activations on the channel axis, or of integer constants (shape arithmetic). */
    static void concat(OnnxImport im, OnnxNode n) {
        n.allowAttributes("axis");
        if (n.inputCount() < 1) throw n.fail("needs at least one input");
        long axis = n.integer("axis", Long.MIN_VALUE);
        if (axis == Long.MIN_VALUE) throw n.fail("attribute axis is required");
        if (im.value(n, 0) instanceof OnnxValue.Ints) {
            OnnxConstantOps.concatInts(im, n, axis);
            return;
        }
        List<OnnxValue.Act> ins = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) ins.add(im.act4(n, i));
        if (axis != 1 && axis != -3) throw n.fail("concatenation on axis " + axis + " is not supported (only channels, axis 1)");
        im.addLayer(n, new Layer.Concat(), ins, Map.of());
    }

    /**
     * Add of two activations of equal shape (a residual connection), or of an activation and a constant right after
     * a MatMul, which becomes that Linear's bias (PyTorch exports x @ W + b as MatMul then Add).
     */
    static void add(OnnxImport im, OnnxNode n) {
        n.allowAttributes();
        n.requireInputs(2, 2);
        OnnxValue a = im.value(n, 0), b = im.value(n, 1);
        if (a instanceof OnnxValue.Act x && b instanceof OnnxValue.Act y) {
            if (!x.shape().equals(y.shape())) {
                throw n.fail("broadcasting Add of shapes " + x.shape() + " and " + y.shape() + " is not supported");
            }
            im.addLayer(n, new Layer.Add(), List.of(x, y), Map.of());
            return;
        }
        int actIndex = a instanceof OnnxValue.Act ? 0 : 1;
        OnnxValue.Act x = im.act(n, actIndex);
        Tensor c = im.floats(n, 1 - actIndex);
        OnnxImport.Draft d = im.producer(x);
        boolean foldable = d != null && d.layer instanceof Layer.Linear lin && !lin.bias()
                && im.uses(n.input(actIndex)) == 1;
        if (!foldable) {
            throw n.fail("adding a constant is only supported as the bias right after a MatMul (or a Gemm without bias)");
        }
        Layer.Linear lin = (Layer.Linear) d.layer;
        im.putParam(d, "bias", rowVector(n, c, lin.out(), 1f));
        d.layer = new Layer.Linear(lin.in(), lin.out(), true);
        im.define(n.output(0), x);
    }

    /** A bias broadcast over the batch: shape (M), (1, M) or a single value. */
    private static Tensor rowVector(OnnxNode n, Tensor c, int m, float scale) {
        boolean row = c.size() == m && (c.shape().rank() == 1 || (c.shape().rank() == 2 && c.shape().dim(0) == 1));
        if (!row && c.size() != 1) throw n.fail("bias of shape " + c.shape() + " does not broadcast to (N, " + m + ")");
        Tensor b = Tensor.zeros(m);
        for (int i = 0; i < m; i++) b.set(i, scale * c.get(row ? i : 0));
        return b;
    }

    /** Gemm: Y = alpha * A * B' + beta * C with A the (N, K) activation, B (and C) constants → Linear. */
    static void gemm(OnnxImport im, OnnxNode n) {
        n.allowAttributes("alpha", "beta", "transA", "transB");
        n.requireInputs(2, 3);
        if (n.integer("transA", 0) != 0) throw n.fail("transA 1 is not supported");
        OnnxValue.Act x = im.act(n, 0);
        if (x.shape().rank() != 2) throw n.fail("expects a 2-D input, got " + x.shape() + " (add a Flatten)");
        Tensor bm = im.floats(n, 1);
        if (bm.shape().rank() != 2) throw n.fail("B must be a 2-D initializer, has shape " + bm.shape());
        boolean transB = n.integer("transB", 0) != 0;
        float alpha = n.real("alpha", 1f), beta = n.real("beta", 1f);
        Tensor w = weight(n, bm, transB, alpha, x.shape().dim(1));
        int out = w.shape().dim(0);
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", w);
        if (n.hasInput(2) && beta != 0f) p.put("bias", rowVector(n, im.floats(n, 2), out, beta));
        im.addLayer(n, new Layer.Linear(w.shape().dim(1), out, p.containsKey("bias")), List.of(x), p);
    }

    /** MatMul of the (N, K) activation by a constant (K, M) → Linear without bias (a following Add may add one). */
    static void matMul(OnnxImport im, OnnxNode n) {
        n.allowAttributes();
        n.requireInputs(2, 2);
        OnnxValue.Act x = im.act(n, 0);
        if (x.shape().rank() != 2) throw n.fail("expects a 2-D input, got " + x.shape());
        Tensor bm = im.floats(n, 1);
        if (bm.shape().rank() != 2) throw n.fail("the weight must be a 2-D initializer, has shape " + bm.shape());
        Tensor w = weight(n, bm, false, 1f, x.shape().dim(1));
        im.addLayer(n, new Layer.Linear(w.shape().dim(1), w.shape().dim(0), false), List.of(x), Map.of("weight", w));
    }

    /** The (out, in) Linear weight from B (transB: B is (out, in); else (in, out)), scaled by alpha. */
    private static Tensor weight(OnnxNode n, Tensor b, boolean transB, float alpha, int in) {
        int rows = b.shape().dim(0), cols = b.shape().dim(1);
        int bIn = transB ? cols : rows, out = transB ? rows : cols;
        if (bIn != in) throw n.fail("weight " + b.shape() + " does not fit an input of " + in + " features");
        Tensor w = Tensor.zeros(out, in);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) w.set(o * in + i, alpha * (transB ? b.get(o * in + i) : b.get(i * out + o)));
        }
        return w;
    }

    static void flatten(OnnxImport im, OnnxNode n) {
        n.allowAttributes("axis");
        n.requireInputs(1, 1);
        OnnxValue.Act x = im.act(n, 0);
        long axis = n.integer("axis", 1);
        if (axis < 0) axis += x.shape().rank();
        if (axis != 1) throw n.fail("flattening at axis " + n.integer("axis", 1) + " is not supported (only axis 1)");
        im.addLayer(n, new Layer.Flatten(), List.of(x), Map.of());
    }

    /**
     * Reshape with a constant target equivalent to flattening to (N, -1): [N or 0 or -1, -1 or C*H*W], where N is
     * the symbolic batch of a Shape chain or the model's fixed batch size. Anything else is refused.
     */
    static void reshape(OnnxImport im, OnnxNode n) {
        n.allowAttributes("allowzero");
        n.requireInputs(2, 2);
        OnnxValue.Act x = im.act(n, 0);
        OnnxValue.Ints target = im.ints(n, 1);
        long[] t = target.values();
        long features = x.shape().numel() / Math.max(1, x.shape().dim(0));
        boolean allowZero = n.integer("allowzero", 0) != 0;
        boolean flatten = t.length == 2 && target.dims().length == 1 && x.shape().rank() >= 2 && (
                (isBatch(im, t[0], allowZero) && (t[1] == -1 || t[1] == features))
                        || (t[0] == -1 && t[1] == features));
        if (!flatten) {
            throw n.fail("reshape of " + describe(x.shape()) + " to " + target
                    + " is not supported (only flattening to (N, -1))");
        }
        im.addLayer(n, new Layer.Flatten(), List.of(x), Map.of());
    }

    private static boolean isBatch(OnnxImport im, long v, boolean allowZero) {
        return v == OnnxValue.Ints.BATCH || (v == 0 && !allowZero) || (im.staticBatch > 0 && v == im.staticBatch);
    }

    private static String describe(Shape s) {
        return "(" + s.toString().replace("x", ", ") + ")";
    }

    /** Dropout: ratio as an attribute (opset < 12) or a constant input; inference only (training_mode false). */
    static void dropout(OnnxImport im, OnnxNode n) {
        n.allowAttributes("ratio", "seed");
        n.requireInputs(1, 3);
        im.requireUnusedOutputs(n, 1, "the mask output");
        float ratio = n.hasInput(1) ? im.scalar(n, 1) : n.real("ratio", 0.5f);
        if (n.hasInput(2)) {
            long[] mode = im.ints(n, 2).values();
            if (mode.length != 1 || mode[0] != 0) throw n.fail("training_mode true is not supported");
        }
        im.addLayer(n, new Layer.Dropout(ratio), List.of(im.act(n, 0)), Map.of());
    }
}
