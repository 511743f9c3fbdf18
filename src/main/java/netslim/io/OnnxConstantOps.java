package netslim.io;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.onnx.proto.OnnxMl.TensorProto;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * ONNX ops evaluated while importing, producing no layer: Constant, Identity (an alias), and the integer shape
 * arithmetic of dynamic-batch exports (Shape, Gather, Unsqueeze, Concat of integers), whose result feeds a Reshape.
 */
final class OnnxConstantOps {
    private OnnxConstantOps() {
    }

    static void constant(OnnxImport im, OnnxNode n) {
        n.allowAttributes("value", "value_float", "value_floats", "value_int", "value_ints");
        n.requireInputs(0, 0);
        OnnxValue v;
        TensorProto t = n.tensor("value");
        if (t != null) {
            v = OnnxTensors.constant(t, n.where());
        } else if (n.has("value_float")) {
            v = new OnnxValue.Floats(Tensor.of(Shape.of(), new float[] {n.real("value_float", 0f)}));
        } else if (n.has("value_floats")) {
            float[] f = n.reals("value_floats");
            v = new OnnxValue.Floats(Tensor.of(Shape.of(f.length), f));
        } else if (n.has("value_int")) {
            v = new OnnxValue.Ints(new long[] {n.integer("value_int", 0)}, new int[0]);
        } else if (n.has("value_ints")) {
            v = OnnxValue.Ints.vector(n.longs("value_ints"));
        } else {
            throw n.fail("has no supported value attribute");
        }
        im.define(n.output(0), v);
    }

    /** Identity is an alias of its input (an activation or a constant); it adds no layer. */
    static void identity(OnnxImport im, OnnxNode n) {
        n.allowAttributes();
        n.requireInputs(1, 1);
        im.define(n.output(0), im.value(n, 0));
    }

    /** Shape of an activation: [N, C, H, W] with N symbolic; opset 15's start/end slice it. */
    static void shape(OnnxImport im, OnnxNode n) {
        n.allowAttributes("start", "end");
        n.requireInputs(1, 1);
        Shape s = im.act(n, 0).shape();
        long[] v = new long[s.rank()];
        for (int i = 0; i < v.length; i++) v[i] = s.dim(i);
        v[0] = OnnxValue.Ints.BATCH;
        int start = clampAxis(n.integer("start", 0), v.length), end = clampAxis(n.integer("end", v.length), v.length);
        im.define(n.output(0), OnnxValue.Ints.vector(Arrays.copyOfRange(v, start, Math.max(start, end))));
    }

    private static int clampAxis(long a, int rank) {
        long x = a < 0 ? a + rank : a;
        return (int) Math.max(0, Math.min(rank, x));
    }

    /** Gather on axis 0 of a 1-D integer constant with constant indices. */
    static void gather(OnnxImport im, OnnxNode n) {
        n.allowAttributes("axis");
        n.requireInputs(2, 2);
        OnnxValue.Ints data = im.ints(n, 0), idx = im.ints(n, 1);
        if (data.dims().length != 1 || n.integer("axis", 0) != 0) {
            throw n.fail("only Gather on axis 0 of a 1-D integer constant is supported");
        }
        long[] out = new long[idx.values().length];
        for (int i = 0; i < out.length; i++) {
            long j = idx.values()[i] < 0 ? idx.values()[i] + data.values().length : idx.values()[i];
            if (j < 0 || j >= data.values().length) throw n.fail("index " + idx.values()[i] + " is out of range");
            out[i] = data.values()[(int) j];
        }
        im.define(n.output(0), new OnnxValue.Ints(out, idx.dims()));
    }

    /** Unsqueeze of an integer constant: axes as an attribute (opset < 13) or a constant input. */
    static void unsqueeze(OnnxImport im, OnnxNode n) {
        n.allowAttributes("axes");
        n.requireInputs(1, 2);
        OnnxValue.Ints data = im.ints(n, 0);
        long[] axes = n.hasInput(1) ? im.ints(n, 1).values() : n.longs("axes");
        if (axes == null) throw n.fail("axes are required");
        int rank = data.dims().length + axes.length;
        if (rank > 8) throw n.fail("unsqueezing to rank " + rank + " is not supported");
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
            long x = a < 0 ? a + rank : a;
            if (x < 0 || x >= rank || inserted[(int) x]) throw n.fail("invalid axes " + Arrays.toString(axes));
            inserted[(int) x] = true;
        }
        int[] dims = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) dims[i] = inserted[i] ? 1 : data.dims()[j++];
        im.define(n.output(0), new OnnxValue.Ints(data.values(), dims));
    }

    /** Concat of 1-D integer constants (building a Reshape target). */
    static void concatInts(OnnxImport im, OnnxNode n, long axis) {
        if (axis != 0 && axis != -1) throw n.fail("integer Concat is only supported on axis 0");
        List<Long> all = new ArrayList<>();
        for (int i = 0; i < n.inputCount(); i++) {
            OnnxValue.Ints v = im.ints(n, i);
            if (v.dims().length != 1) throw n.fail("integer Concat is only supported for 1-D inputs");
            for (long x : v.values()) all.add(x);
        }
        im.define(n.output(0), OnnxValue.Ints.vector(all.stream().mapToLong(Long::longValue).toArray()));
    }
}
