package netslim.io;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The state of one ONNX → {@link Graph} translation: what each ONNX value name stands for ({@link OnnxValue}), the
 * netslim nodes made so far (mutable drafts, so a later Add can fold into a Linear's bias), their parameters, and
 * unique sanitised names. The op handlers ({@link OnnxSpatialOps}, {@link OnnxDenseOps}, {@link OnnxConstantOps})
 * read their inputs through the typed accessors here, which fail with the node named.
 */
final class OnnxImport {
    /** A netslim node under construction. */
    static final class Draft {
        final String name;
        Layer layer;
        final List<String> inputs;

        Draft(String name, Layer layer, List<String> inputs) {
            this.name = name;
            this.layer = layer;
            this.inputs = inputs;
        }
    }

    final String file;
    private final Map<String, OnnxValue> values = new HashMap<>();
    private final Map<String, Integer> uses = new HashMap<>();
    /** Initializers of data types netslim does not read (e.g. FLOAT16), by name → type. */
    private final Map<String, String> otherInitializers = new HashMap<>();
    private final List<Draft> drafts = new ArrayList<>();
    private final Map<String, Draft> draftsByName = new HashMap<>();
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Set<String> usedNames = new HashSet<>();
    private final String inputName;
    private final Shape inputShape;
    /** The batch size of the input when the model fixes it, else -1 (dynamic). */
    final int staticBatch;

    OnnxImport(GraphProto g, String file) {
        this.file = file;
        for (NodeProto n : g.getNodeList()) for (String in : n.getInputList()) uses.merge(in, 1, Integer::sum);
        for (ValueInfoProto o : g.getOutputList()) uses.merge(o.getName(), 1, Integer::sum);
        Set<String> init = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            if (!init.add(t.getName())) throw new NetslimException(file + ": initializer " + t.getName() + " is duplicated");
            if (OnnxTensors.isFloat(t) || OnnxTensors.isInt(t)) {
                values.put(t.getName(), OnnxTensors.constant(t, file + ": initializer " + t.getName()));
            } else { // an error only if some node reads it
                otherInitializers.put(t.getName(), OnnxTensors.typeName(t.getDataType()));
            }
        }
        List<ValueInfoProto> inputs = new ArrayList<>();
        for (ValueInfoProto v : g.getInputList()) if (!init.contains(v.getName())) inputs.add(v);
        if (inputs.size() != 1) {
            throw new NetslimException(file + ": the model must have exactly one input that is not an initializer, has "
                    + inputs.stream().map(ValueInfoProto::getName).toList());
        }
        ValueInfoProto in = inputs.get(0);
        int[] dims = inputDims(in);
        this.staticBatch = dims[0];
        this.inputName = uniqueName(in.getName());
        int[] chw = new int[dims.length - 1];
        System.arraycopy(dims, 1, chw, 0, chw.length);
        this.inputShape = Shape.of(chw);
        int[] withBatch = dims.clone();
        withBatch[0] = staticBatch > 0 ? staticBatch : 1;
        values.put(in.getName(), new OnnxValue.Act(inputName, Shape.of(withBatch)));
    }

    /** (N, C, H, W)-like dims: float, rank ≥ 2, every dimension but the batch fixed; a dynamic batch is -1. */
    private int[] inputDims(ValueInfoProto in) {
        String where = file + ": input " + in.getName();
        if (!in.getType().hasTensorType() || in.getType().getTensorType().getElemType() != 1) {
            throw new NetslimException(where + ": must be a float32 tensor");
        }
        if (!in.getType().getTensorType().hasShape()) throw new NetslimException(where + ": has no shape");
        TensorShapeProto s = in.getType().getTensorType().getShape();
        if (s.getDimCount() < 2) throw new NetslimException(where + ": must have a batch and feature dimensions");
        int[] d = new int[s.getDimCount()];
        for (int i = 0; i < d.length; i++) {
            TensorShapeProto.Dimension dim = s.getDim(i);
            long v = dim.hasDimValue() ? dim.getDimValue() : -1;
            if (i == 0) {
                d[0] = v > 0 && v <= Integer.MAX_VALUE ? (int) v : -1;
            } else if (v <= 0 || v > Integer.MAX_VALUE) {
                throw new NetslimException(where + ": dimension " + i + " must be a fixed positive size, is "
                        + (dim.hasDimParam() ? dim.getDimParam() : dim.hasDimValue() ? v : "unknown"));
            } else {
                d[i] = (int) v;
            }
        }
        return d;
    }

    /** The graph input's netslim name. */
    String inputName() {
        return inputName;
    }

    // ---- values ----

    void define(String onnxName, OnnxValue v) {
        if (!onnxName.isEmpty()) values.put(onnxName, v);
    }

    OnnxValue value(OnnxNode n, int i) {
        String name = n.input(i);
        if (name.isEmpty()) throw n.fail("input " + i + " is required");
        OnnxValue v = values.get(name);
        if (v == null && otherInitializers.containsKey(name)) {
            throw n.fail("initializer " + name + " has unsupported data type " + otherInitializers.get(name));
        }
        if (v == null) throw n.fail("input " + name + " is not defined before this node");
        return v;
    }

    OnnxValue.Act act(OnnxNode n, int i) {
        OnnxValue v = value(n, i);
        if (v instanceof OnnxValue.Act a) return a;
        if (v instanceof OnnxValue.Padded) {
            throw n.fail("reads the output of a Pad; Pad is only supported right before a Conv or an AveragePool");
        }
        throw n.fail("input " + n.input(i) + " must be computed from the model input, not a constant");
    }

    OnnxValue.Act act4(OnnxNode n, int i) {
        OnnxValue.Act a = act(n, i);
        if (a.shape().rank() != 4) throw n.fail("expects an NCHW input, got shape " + a.shape());
        return a;
    }

    Tensor floats(OnnxNode n, int i) {
        if (value(n, i) instanceof OnnxValue.Floats f) return f.tensor();
        throw n.fail("input " + n.input(i) + " must be a float constant (an initializer or a Constant node)");
    }

    OnnxValue.Ints ints(OnnxNode n, int i) {
        if (value(n, i) instanceof OnnxValue.Ints v) return v;
        throw n.fail("input " + n.input(i) + " must be a constant integer tensor");
    }

    /** A one-element float constant. */
    float scalar(OnnxNode n, int i) {
        Tensor t = floats(n, i);
        if (t.size() != 1) throw n.fail("input " + n.input(i) + " must be a scalar, has shape " + t.shape());
        return t.get(0);
    }

    /** How many node inputs and graph outputs read an ONNX value. */
    int uses(String onnxName) {
        return uses.getOrDefault(onnxName, 0);
    }

    /** Requires that the node's outputs from {@code first} on are absent or unused (e.g. MaxPool's Indices). */
    void requireUnusedOutputs(OnnxNode n, int first, String what) {
        for (int i = first; i < n.outputCount(); i++) {
            if (!n.output(i).isEmpty() && uses(n.output(i)) > 0) throw n.fail(what + " (output " + i + ") is not supported");
        }
    }

    // ---- nodes ----

    /**
     * Adds a netslim node for {@code n} with the given layer, inputs and parameters (suffix → tensor, copied), and
     * defines the node's first output. The output shape is computed now, so shape errors name this node.
     */
    OnnxValue.Act addLayer(OnnxNode n, Layer layer, List<OnnxValue.Act> inputs, Map<String, Tensor> layerParams) {
        Shape out;
        try {
            out = layer.outputShape(inputs.stream().map(OnnxValue.Act::shape).toList());
        } catch (NetslimException e) {
            throw n.fail(e.getMessage());
        }
        String name = uniqueName(n.name().isEmpty() ? n.output(0) : n.name());
        Draft d = new Draft(name, layer, new ArrayList<>(inputs.stream().map(OnnxValue.Act::node).toList()));
        drafts.add(d);
        draftsByName.put(name, d);
        layerParams.forEach((suffix, t) -> params.put(name + "." + suffix, t.copy()));
        OnnxValue.Act a = new OnnxValue.Act(name, out);
        define(n.output(0), a);
        return a;
    }

    /** The draft that produced an activation, or null for the graph input. */
    Draft producer(OnnxValue.Act a) {
        return draftsByName.get(a.node());
    }

    void putParam(Draft d, String suffix, Tensor t) {
        params.put(d.name + "." + suffix, t.copy());
    }

    /**
     * Sanitises an ONNX name into a netslim node name: PyTorch's "/layer1/layer1.0/conv1/Conv" becomes
     * "layer1.layer1.0.conv1.Conv", other characters outside [A-Za-z0-9_.-] become '_'; made unique with a suffix.
     */
    private String uniqueName(String onnxName) {
        String s = onnxName.replaceAll("^/+|/+$", "").replace('/', '.').replaceAll("[^A-Za-z0-9_.\\-]+", "_");
        if (s.isEmpty()) s = "node";
        String name = s;
        for (int k = 2; !usedNames.add(name); k++) name = s + "_" + k;
        return name;
    }

    // ---- result ----

    /** Builds the graph whose output is {@code outputName}, dropping nodes the output does not depend on. */
    Graph build(String outputName) {
        OnnxValue v = values.get(outputName);
        if (!(v instanceof OnnxValue.Act out)) {
            throw new NetslimException(file + ": the graph output " + outputName
                    + (v == null ? " is not produced by any node" : " is not computed from the input"));
        }
        String output = out.node();
        if (output.equals(inputName)) {
            output = uniqueName(outputName);
            drafts.add(new Draft(output, new Layer.Identity(), List.of(inputName)));
        }
        Set<String> live = liveNodes(output);
        List<Node> nodes = new ArrayList<>();
        for (Draft d : drafts) if (live.contains(d.name)) nodes.add(new Node(d.name, d.layer, d.inputs));
        ParamStore store = new ParamStore();
        params.forEach((name, t) -> {
            if (live.contains(name.substring(0, name.lastIndexOf('.')))) store.put(name, t);
        });
        try {
            Graph g = new Graph(inputName, inputShape, nodes, output, store);
            g.validateParams();
            g.shapes(1);
            return g;
        } catch (NetslimException e) {
            throw new NetslimException(file + ": " + e.getMessage(), e);
        }
    }

    private Set<String> liveNodes(String output) {
        Map<String, Draft> byName = new HashMap<>();
        for (Draft d : drafts) byName.put(d.name, d);
        Set<String> live = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(output));
        while (!todo.isEmpty()) {
            Draft d = byName.get(todo.pop());
            if (d != null && live.add(d.name)) todo.addAll(d.inputs);
        }
        return live;
    }
}
