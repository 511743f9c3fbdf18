package netslim.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Translates one (already BatchNorm-folded) {@link Graph} into an ONNX {@link GraphProto}, node by node, opset 13.
 * Each netslim node's output becomes the ONNX value of the same name and its ONNX node carries the netslim node's
 * name (helper nodes and constants get "NAME.suffix"), so an exported graph reads like the netslim one and imports
 * back under the same names. Views (Identity, Dropout, a one-input Add) emit nothing: their consumers read the
 * viewed value. The graph input keeps its name with a symbolic batch dimension "batch".
 */
final class OnnxGraphWriter {
    static final String BATCH = "batch";

    private final Graph graph;
    private final Map<String, String> foldedBatchNorms;
    private final GraphProto.Builder out = GraphProto.newBuilder();
    /** netslim node (or graph input) name → the ONNX value holding its output. */
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> usedNames = new HashSet<>();

    OnnxGraphWriter(Graph graph, Map<String, String> foldedBatchNorms) {
        this.graph = graph;
        this.foldedBatchNorms = foldedBatchNorms;
        usedNames.add(graph.inputName());
        for (Node n : graph.nodes()) usedNames.add(n.name());
    }

    GraphProto write(String graphName) {
        out.setName(graphName);
        Map<String, Shape> shapes = graph.shapes(1);
        out.addInput(valueInfo(graph.inputName(), shapes.get(graph.inputName())));
        values.put(graph.inputName(), graph.inputName());
        for (Node n : graph.nodes()) {
            try {
                writeNode(n);
            } catch (NetslimException e) {
                throw new NetslimException("node " + n.name() + " (" + n.layer().kind() + "): " + e.getMessage(), e);
            }
        }
        String output = values.get(graph.outputName());
        if (output.equals(graph.inputName())) { // the model is its input: ONNX needs a node to name the output
            output = freshName(graph.outputName());
            node("Identity", graph.outputName(), List.of(graph.inputName()), output, "netslim output (a view of the input)");
        }
        out.addOutput(valueInfo(output, shapes.get(graph.outputName())));
        return out.build();
    }

    private void writeNode(Node n) {
        String name = n.name();
        List<String> ins = n.inputs().stream().map(values::get).toList();
        Layer layer = n.layer();
        String doc = "netslim " + layer.kind() + " " + name;
        if (layer instanceof Layer.Conv2d c) {
            conv(name, c, ins.get(0), doc);
        } else if (layer instanceof Layer.BatchNorm2d bn) {
            batchNorm(name, bn, ins.get(0), doc);
        } else if (layer instanceof Layer.Relu) {
            node("Relu", name, ins, name, doc);
        } else if (layer instanceof Layer.Clip c) {
            clip(name, c, ins.get(0), doc);
        } else if (layer instanceof Layer.MaxPool2d p) {
            maxPool(name, p.spec(), ins.get(0), doc);
        } else if (layer instanceof Layer.AvgPool2d p) {
            avgPool(name, p.spec(), ins.get(0), doc);
        } else if (layer instanceof Layer.GlobalAvgPool) {
            node("GlobalAveragePool", name, ins, name, doc);
        } else if (layer instanceof Layer.Linear lin) {
            linear(name, lin, ins.get(0), doc);
        } else if (layer instanceof Layer.Flatten) {
            node("Flatten", name, ins, name, doc).addAttribute(intAttr("axis", 1));
        } else if (layer instanceof Layer.Concat) {
            node("Concat", name, ins, name, doc).addAttribute(intAttr("axis", 1));
        } else if (layer instanceof Layer.Add) {
            add(name, ins, doc);
        } else if (layer instanceof Layer.Identity || layer instanceof Layer.Dropout) {
            values.put(name, ins.get(0)); // inference: a view of its input
        } else {
            throw new NetslimException("layer kind " + layer.kind() + " cannot be exported to ONNX");
        }
        values.putIfAbsent(name, name);
    }

    // ---- layers ----

    private void conv(String name, Layer.Conv2d c, String in, String doc) {
        ConvSpec s = c.spec();
        String bn = foldedBatchNorms.get(name);
        if (bn != null) doc += " with BatchNorm2d " + bn + " folded in";
        doc += tuckerRole(name);
        String w = initializer(name + ".weight", param(name, "weight"));
        List<String> ins = c.bias() ? List.of(in, w, initializer(name + ".bias", param(name, "bias"))) : List.of(in, w);
        node("Conv", name, ins, name, doc)
                .addAttribute(intsAttr("kernel_shape", s.kh(), s.kw()))
                .addAttribute(intsAttr("strides", s.strideH(), s.strideW()))
                .addAttribute(intsAttr("pads", s.padH(), s.padW(), s.padH(), s.padW()))
                .addAttribute(intsAttr("dilations", s.dilationH(), s.dilationW()))
                .addAttribute(intAttr("group", s.groups()));
    }

    /** Says where a conv sits in a Tucker-2 chain (NAME.tucker_in → NAME.tucker_core → NAME) or low-rank pair. */
    private String tuckerRole(String name) {
        if (name.endsWith(".tucker_in")) return "; Tucker-2 chain of " + stem(name) + ", 1/3 (1x1, S to R3)";
        if (name.endsWith(".tucker_core")) return "; Tucker-2 chain of " + stem(name) + ", 2/3 (core, R3 to R4)";
        if (usedNames.contains(name + ".tucker_core")) return "; Tucker-2 chain of " + name + ", 3/3 (1x1, R4 to T)";
        if (name.endsWith(".lowrank_in")) return "; low-rank pair of " + stem(name) + ", 1/2";
        if (usedNames.contains(name + ".lowrank_in")) return "; low-rank pair of " + name + ", 2/2";
        return "";
    }

    private static String stem(String name) {
        return name.substring(0, name.lastIndexOf('.'));
    }

    /** A BatchNorm that could not be folded (its input is not a conv read only by it). */
    private void batchNorm(String name, Layer.BatchNorm2d bn, String in, String doc) {
        List<String> ins = List.of(in,
                initializer(name + ".weight", param(name, "weight")),
                initializer(name + ".bias", param(name, "bias")),
                initializer(name + ".running_mean", param(name, "running_mean")),
                initializer(name + ".running_var", param(name, "running_var")));
        // ONNX momentum weighs the running value (PyTorch's weighs the batch): 1 − m, exact in decimal.
        float momentum = java.math.BigDecimal.ONE.subtract(new java.math.BigDecimal(Float.toString(bn.momentum())))
                .floatValue();
        node("BatchNormalization", name, ins, name, doc)
                .addAttribute(floatAttr("epsilon", bn.eps()))
                .addAttribute(floatAttr("momentum", momentum));
    }

    /** Clip (opset 11+): bounds as optional scalar inputs; an infinite bound is left out. */
    private void clip(String name, Layer.Clip c, String in, String doc) {
        String lo = Float.isInfinite(c.lo()) && c.lo() < 0 ? "" : initializer(name + ".min", scalar(c.lo()));
        String hi = Float.isInfinite(c.hi()) && c.hi() > 0 ? "" : initializer(name + ".max", scalar(c.hi()));
        List<String> ins = hi.isEmpty() ? (lo.isEmpty() ? List.of(in) : List.of(in, lo)) : List.of(in, lo, hi);
        node("Clip", name, ins, name, doc);
    }

    private void maxPool(String name, PoolSpec p, String in, String doc) {
        node("MaxPool", name, List.of(in), name, doc)
                .addAttribute(intsAttr("kernel_shape", p.kh(), p.kw()))
                .addAttribute(intsAttr("strides", p.strideH(), p.strideW()))
                .addAttribute(intsAttr("pads", p.padH(), p.padW(), p.padH(), p.padW()))
                .addAttribute(intAttr("ceil_mode", p.ceilMode() ? 1 : 0));
    }

    /**
     * AveragePool. netslim's divisor is PyTorch's: the window clipped to the padded input, so padded zeros count
     * with count_include_pad and a ceil-mode overhang never does. ONNX's count_include_pad=1 would count the
     * overhang too, so padded zeros that count are written as an explicit zero Pad (what PyTorch's exporter emits)
     * followed by an AveragePool without pads and count_include_pad=0.
     */
    private void avgPool(String name, PoolSpec p, String in, String doc) {
        boolean padded = p.padH() > 0 || p.padW() > 0;
        String x = in;
        int ph = p.padH(), pw = p.padW();
        if (padded && p.countIncludePad()) {
            String pads = initializer(name + ".pads", new long[] {0, 0, ph, pw, 0, 0, ph, pw});
            x = freshName(name + ".padded");
            node("Pad", freshName(name + ".pad"), List.of(in, pads), x, doc + ": zero padding that the average counts");
            ph = 0;
            pw = 0;
        }
        node("AveragePool", name, List.of(x), name, doc)
                .addAttribute(intsAttr("kernel_shape", p.kh(), p.kw()))
                .addAttribute(intsAttr("strides", p.strideH(), p.strideW()))
                .addAttribute(intsAttr("pads", ph, pw, ph, pw))
                .addAttribute(intAttr("ceil_mode", p.ceilMode() ? 1 : 0))
                .addAttribute(intAttr("count_include_pad", 0));
    }

    /** Gemm with transB = 1: netslim's weight is (out, in), as PyTorch's Linear. */
    private void linear(String name, Layer.Linear lin, String in, String doc) {
        String w = initializer(name + ".weight", param(name, "weight"));
        List<String> ins = lin.bias() ? List.of(in, w, initializer(name + ".bias", param(name, "bias"))) : List.of(in, w);
        node("Gemm", name, ins, name, doc).addAttribute(intAttr("transB", 1));
    }

    /** ONNX Add is binary: a sum of k > 2 inputs is a chain NAME.sum1 … NAME.sum(k-2), then NAME. */
    private void add(String name, List<String> ins, String doc) {
        if (ins.size() == 1) {
            values.put(name, ins.get(0));
            return;
        }
        String acc = ins.get(0);
        for (int i = 1; i < ins.size(); i++) {
            boolean last = i == ins.size() - 1;
            String nodeName = last ? name : freshName(name + ".sum" + i);
            node("Add", nodeName, List.of(acc, ins.get(i)), nodeName, doc + (last ? "" : " (partial sum)"));
            acc = nodeName;
        }
    }

    // ---- protobuf helpers ----

    private NodeProto.Builder node(String op, String nodeName, List<String> inputs, String output, String doc) {
        NodeProto.Builder b = out.addNodeBuilder().setOpType(op).setName(nodeName).addAllInput(inputs).addOutput(output);
        if (!doc.isEmpty()) b.setDocString(doc);
        return b;
    }

    private Tensor param(String node, String suffix) {
        return graph.params().get(node + "." + suffix);
    }

    private String freshName(String base) {
        String name = base;
        for (int k = 2; !usedNames.add(name); k++) name = base + "_" + k;
        return name;
    }

    private String initializer(String base, Tensor t) {
        String name = freshName(base);
        ByteBuffer buf = ByteBuffer.allocate(4 * t.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < t.size(); i++) buf.putFloat(t.get(i));
        TensorProto.Builder p = out.addInitializerBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(buf.array()));
        for (int d : t.shape().dims()) p.addDims(d);
        return name;
    }

    private String initializer(String base, long[] v) {
        String name = freshName(base);
        ByteBuffer buf = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) buf.putLong(x);
        out.addInitializerBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length)
                .setRawData(ByteString.copyFrom(buf.array()));
        return name;
    }

    /** A rank-0 tensor (Clip's bounds must be scalars). */
    private static Tensor scalar(float v) {
        return Tensor.of(Shape.of(), new float[] {v});
    }

    /** float32 value info; dimension 0 is the symbolic batch. */
    private static ValueInfoProto valueInfo(String name, Shape withBatch) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        s.addDimBuilder().setDimParam(BATCH);
        for (int i = 1; i < withBatch.rank(); i++) s.addDimBuilder().setDimValue(withBatch.dim(i));
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s);
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.INT).setI(v).build();
    }

    private static AttributeProto intsAttr(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    private static AttributeProto floatAttr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeType.FLOAT).setF(v).build();
    }
}
