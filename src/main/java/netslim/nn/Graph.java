package netslim.nn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import netslim.NetslimException;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * A model as an explicit graph of named nodes in topological order, with one input (shape without the batch
 * dimension, e.g. 3x224x224) and one output. Every node's output is named by the node. Parameters live in a
 * {@link ParamStore}; free-form metadata (Tucker groups, pruning history, provenance) is kept as JSON strings.
 */
public final class Graph {
    private final String inputName;
    private final Shape inputShape;
    private final List<Node> nodes;
    private final String outputName;
    private final ParamStore params;
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public Graph(String inputName, Shape inputShape, List<Node> nodes, String outputName, ParamStore params) {
        this.inputName = inputName;
        this.inputShape = inputShape;
        this.nodes = List.copyOf(nodes);
        this.outputName = outputName;
        this.params = params;
        validateStructure();
    }

    public String inputName() { return inputName; }

    /** Input shape without the batch dimension (C, H, W). */
    public Shape inputShape() { return inputShape; }

    public List<Node> nodes() { return nodes; }

    public String outputName() { return outputName; }

    public ParamStore params() { return params; }

    public Map<String, String> metadata() { return metadata; }

    public Node node(String name) {
        for (Node n : nodes) if (n.name().equals(name)) return n;
        throw new NetslimException("no node named " + name);
    }

    /** Nodes that read the output of {@code name}. */
    public List<Node> consumers(String name) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) if (n.inputs().contains(name)) out.add(n);
        return out;
    }

    private void validateStructure() {
        Set<String> seen = new HashSet<>();
        seen.add(inputName);
        for (Node n : nodes) {
            if (n.inputs().isEmpty()) throw new NetslimException("node " + n.name() + " has no inputs");
            int arity = n.layer().arity();
            if (arity >= 0 && n.inputs().size() != arity) {
                throw new NetslimException("node " + n.name() + " (" + n.layer().kind() + ") takes " + arity
                        + " input(s), got " + n.inputs().size());
            }
            for (String in : n.inputs()) {
                if (!seen.contains(in)) {
                    throw new NetslimException("node " + n.name() + " reads " + in + ", which is not defined before it");
                }
            }
            if (!seen.add(n.name())) throw new NetslimException("duplicate node name " + n.name());
        }
        if (!seen.contains(outputName)) throw new NetslimException("graph output " + outputName + " is not a node");
    }

    /** Output shape of every node (and the input) at the given batch size; validates parameters against layers. */
    public Map<String, Shape> shapes(int batch) {
        Map<String, Shape> shapes = new HashMap<>();
        int[] d = new int[inputShape.rank() + 1];
        d[0] = batch;
        for (int i = 0; i < inputShape.rank(); i++) d[i + 1] = inputShape.dim(i);
        shapes.put(inputName, new Shape(d));
        for (Node n : nodes) {
            List<Shape> ins = new ArrayList<>();
            for (String in : n.inputs()) ins.add(shapes.get(in));
            Shape out;
            try {
                out = n.layer().outputShape(ins);
            } catch (NetslimException e) {
                throw new NetslimException("layer " + n.name() + ": " + e.getMessage(), e);
            }
            shapes.put(n.name(), out);
        }
        return shapes;
    }

    /** Checks that every parameter a layer declares exists with the right shape, and no stray ones exist. */
    public void validateParams() {
        Set<String> expected = new HashSet<>();
        for (Node n : nodes) {
            for (Map.Entry<String, Shape> e : n.layer().params().entrySet()) {
                String name = n.name() + "." + e.getKey();
                expected.add(name);
                Tensor t = params.getOrNull(name);
                if (t == null) throw new NetslimException("missing parameter " + name + " of layer " + n.name());
                ParamStore.checkShape(name, t, e.getValue());
            }
        }
        for (String name : params.names()) {
            if (!expected.contains(name)) throw new NetslimException("parameter " + name + " belongs to no layer");
        }
    }

    /** Allocates zero tensors for every declared parameter that is missing (BN: γ=1, var=1). */
    public void allocateMissingParams() {
        for (Node n : nodes) {
            for (Map.Entry<String, Shape> e : n.layer().params().entrySet()) {
                String name = n.name() + "." + e.getKey();
                if (params.contains(name)) continue;
                Tensor t = Tensor.zeros(e.getValue());
                if (n.layer() instanceof Layer.BatchNorm2d
                        && (e.getKey().equals("weight") || e.getKey().equals("running_var"))) {
                    t.fill(1f);
                }
                params.put(name, t);
            }
        }
    }

    /** A new graph with other nodes (and the same input), sharing nothing mutable with this one. */
    public Graph withNodes(List<Node> newNodes, String newOutput, ParamStore newParams) {
        Graph g = new Graph(inputName, inputShape, newNodes, newOutput, newParams);
        g.metadata.putAll(metadata);
        return g;
    }

    /** Deep copy (parameters copied). */
    public Graph copy() {
        return withNodes(nodes, outputName, params.copy());
    }
}
