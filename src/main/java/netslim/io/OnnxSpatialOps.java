package netslim.io;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.nn.Layer;
import netslim.tensor.Tensor;

/**
 * ONNX ops on NCHW feature maps: Conv, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool and the zero Pad
 * PyTorch puts before an AveragePool. Only 2-D, symmetric padding, auto_pad NOTSET (or VALID).
 */
final class OnnxSpatialOps {
    private OnnxSpatialOps() {
    }

    /** Spatial geometry shared by Conv and the pools: kernel, strides, symmetric pads (top/left), dilations. */
    private record Geometry(int[] kernel, int[] strides, int[] pads, int[] dilations) {
    }

    private static Geometry geometry(OnnxNode n, int[] kernel) {
        String autoPad = n.string("auto_pad", "NOTSET");
        int[] pads = n.ints("pads", 4, new int[4]);
        if (autoPad.equals("VALID")) {
            if (n.has("pads") && (pads[0] | pads[1] | pads[2] | pads[3]) != 0) {
                throw n.fail("auto_pad VALID with non-zero pads is not supported");
            }
        } else if (!autoPad.equals("NOTSET") && !autoPad.isEmpty()) {
            throw n.fail("auto_pad " + autoPad + " is not supported (export with explicit pads)");
        }
        // ONNX pads are [top, left, bottom, right]; netslim (like PyTorch) pads both sides equally.
        if (pads[0] != pads[2] || pads[1] != pads[3]) {
            throw n.fail("asymmetric pads " + OnnxNode.show(pads) + " are not supported (only top = bottom, left = right)");
        }
        if (pads[0] < 0 || pads[1] < 0) throw n.fail("negative pads " + OnnxNode.show(pads) + " are not supported");
        int[] strides = n.ints("strides", 2, new int[] {1, 1});
        int[] dilations = n.ints("dilations", 2, new int[] {1, 1});
        return new Geometry(kernel, strides, new int[] {pads[0], pads[1]}, dilations);
    }

    static void conv(OnnxImport im, OnnxNode n) {
        n.allowAttributes("auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
        n.requireInputs(2, 3);
        OnnxValue in = im.value(n, 0);
        int extraH = 0, extraW = 0;
        OnnxValue.Act x;
        if (in instanceof OnnxValue.Padded p) { // a zero Pad right before: fold it into the conv's own padding
            x = p.source();
            extraH = p.padH();
            extraW = p.padW();
        } else {
            x = im.act4(n, 0);
        }
        Tensor w = im.floats(n, 1);
        if (w.shape().rank() != 4) throw n.fail("only 2-D convolution is supported (weight shape " + w.shape() + ")");
        int[] kernel = {w.shape().dim(2), w.shape().dim(3)};
        int[] declared = n.ints("kernel_shape", 2, kernel);
        if (declared[0] != kernel[0] || declared[1] != kernel[1]) {
            throw n.fail("kernel_shape " + OnnxNode.show(declared) + " does not match the weight " + w.shape());
        }
        Geometry g = geometry(n, kernel);
        int groups = n.smallInt("group", 1);
        int cin = x.shape().c(), cout = w.shape().dim(0);
        if (groups <= 0 || (long) w.shape().dim(1) * groups != cin) {
            throw n.fail("weight " + w.shape() + " with group " + groups + " does not fit " + cin + " input channels");
        }
        ConvSpec spec;
        try {
            spec = new ConvSpec(cin, cout, kernel[0], kernel[1], g.strides()[0], g.strides()[1],
                    g.pads()[0] + extraH, g.pads()[1] + extraW, g.dilations()[0], g.dilations()[1], groups);
        } catch (IllegalArgumentException e) {
            throw n.fail(e.getMessage());
        }
        Map<String, Tensor> p = new LinkedHashMap<>();
        p.put("weight", w);
        if (n.hasInput(2)) {
            Tensor b = im.floats(n, 2);
            if (b.shape().rank() != 1 || b.size() != cout) throw n.fail("bias shape " + b.shape() + " must be " + cout);
            p.put("bias", b);
        }
        im.addLayer(n, new Layer.Conv2d(spec, p.containsKey("bias")), List.of(x), p);
    }

    static void batchNorm(OnnxImport im, OnnxNode n) {
        n.allowAttributes("epsilon", "momentum", "spatial", "training_mode");
        n.requireInputs(5, 5);
        if (n.integer("training_mode", 0) != 0) throw n.fail("training_mode 1 is not supported (export in eval mode)");
        if (n.integer("spatial", 1) != 1) throw n.fail("spatial 0 is not supported");
        im.requireUnusedOutputs(n, 1, "the training-mode statistics output");
        OnnxValue.Act x = im.act4(n, 0);
        int c = x.shape().c();
        Map<String, Tensor> p = new LinkedHashMap<>();
        String[] suffixes = {"weight", "bias", "running_mean", "running_var"};
        for (int i = 0; i < 4; i++) {
            Tensor t = im.floats(n, i + 1);
            if (t.size() != c || t.shape().rank() != 1) {
                throw n.fail("input " + n.input(i + 1) + " has shape " + t.shape() + ", expected " + c);
            }
            p.put(suffixes[i], t);
        }
        float eps = n.real("epsilon", 1e-5f);
        // ONNX: running = m * running + (1 - m) * batch; PyTorch's momentum is the weight of the batch: 1 - m.
        // Subtracting the decimal forms keeps 0.9 → 0.1 exact instead of 0.100000024.
        float m = n.real("momentum", 0.9f);
        float momentum = BigDecimal.ONE.subtract(new BigDecimal(Float.toString(m))).floatValue();
        im.addLayer(n, new Layer.BatchNorm2d(c, eps, momentum), List.of(x), p);
    }

    static void maxPool(OnnxImport im, OnnxNode n) {
        n.allowAttributes("auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides");
        n.requireInputs(1, 1);
        im.requireUnusedOutputs(n, 1, "the Indices output");
        Geometry g = geometry(n, requiredKernel(n));
        if (g.dilations()[0] != 1 || g.dilations()[1] != 1) {
            throw n.fail("dilations " + OnnxNode.show(g.dilations()) + " are not supported for pooling");
        }
        PoolSpec spec = pool(n, g, 0, 0, true);
        im.addLayer(n, new Layer.MaxPool2d(spec), List.of(im.act4(n, 0)), Map.of());
    }

    /**
     * AveragePool. For count_include_pad=True PyTorch exports a zero Pad followed by an AveragePool without pads;
     * that pair is exactly a PyTorch AvgPool2d with the Pad's padding and count_include_pad=True (the padded zeros
     * count, a ceil_mode overhang does not), which is what netslim's pool computes.
     */
    static void avgPool(OnnxImport im, OnnxNode n) {
        n.allowAttributes("auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides");
        n.requireInputs(1, 1);
        Geometry g = geometry(n, requiredKernel(n));
        boolean countPad = n.integer("count_include_pad", 0) != 0;
        OnnxValue in = im.value(n, 0);
        if (in instanceof OnnxValue.Padded p) {
            boolean ownPads = g.pads()[0] != 0 || g.pads()[1] != 0;
            if (ownPads && !countPad) {
                throw n.fail("a Pad before an AveragePool with count_include_pad=0 and its own pads is not supported");
            }
            PoolSpec spec = pool(n, g, p.padH(), p.padW(), true);
            im.addLayer(n, new Layer.AvgPool2d(spec), List.of(p.source()), Map.of());
        } else {
            im.addLayer(n, new Layer.AvgPool2d(pool(n, g, 0, 0, countPad)), List.of(im.act4(n, 0)), Map.of());
        }
    }

    private static int[] requiredKernel(OnnxNode n) {
        int[] k = n.ints("kernel_shape", 2, null);
        if (k == null) throw n.fail("kernel_shape is required");
        return k;
    }

    private static PoolSpec pool(OnnxNode n, Geometry g, int extraH, int extraW, boolean countIncludePad) {
        boolean ceil = n.integer("ceil_mode", 0) != 0;
        if (n.integer("storage_order", 0) != 0) throw n.fail("storage_order 1 is not supported");
        try {
            return new PoolSpec(g.kernel()[0], g.kernel()[1], g.strides()[0], g.strides()[1],
                    g.pads()[0] + extraH, g.pads()[1] + extraW, ceil, countIncludePad);
        } catch (IllegalArgumentException e) {
            throw n.fail(e.getMessage());
        }
    }

    static void globalAvgPool(OnnxImport im, OnnxNode n) {
        n.allowAttributes();
        n.requireInputs(1, 1);
        im.addLayer(n, new Layer.GlobalAvgPool(), List.of(im.act4(n, 0)), Map.of());
    }

    /**
     * Pad with constant zeros on H and W only (pads as an attribute before opset 11, as an input after); becomes a
     * {@link OnnxValue.Padded} that the next Conv or AveragePool absorbs.
     */
    static void pad(OnnxImport im, OnnxNode n) {
        n.allowAttributes("mode", "pads", "value");
        n.requireInputs(1, 3);
        if (!n.string("mode", "constant").equals("constant")) throw n.fail("mode " + n.string("mode", "") + " is not supported");
        float value = n.hasInput(2) ? im.scalar(n, 2) : n.real("value", 0f);
        if (value != 0f) throw n.fail("padding with " + value + " is not supported (only zeros)");
        long[] pads = n.hasInput(1) ? im.ints(n, 1).values() : n.longs("pads");
        if (pads == null || pads.length != 8) throw n.fail("pads must have 8 entries for an NCHW input");
        boolean onlySpatial = pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0;
        if (!onlySpatial || pads[2] != pads[6] || pads[3] != pads[7] || pads[2] < 0 || pads[3] < 0
                || pads[2] > 1 << 16 || pads[3] > 1 << 16) {
            throw n.fail("pads " + java.util.Arrays.toString(pads) + " are not supported (only symmetric zero padding of H and W)");
        }
        if (im.uses(n.output(0)) != 1) throw n.fail("a Pad output must feed exactly one Conv or AveragePool");
        im.define(n.output(0), new OnnxValue.Padded(im.act4(n, 0), (int) pads[2], (int) pads[3]));
    }
}
