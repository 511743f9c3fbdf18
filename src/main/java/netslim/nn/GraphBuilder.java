package netslim.nn;

import java.util.ArrayList;
import java.util.List;

import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.tensor.Shape;

/**
 * Fluent construction of a {@link Graph}, used by the model zoo and the ONNX importer. Each method adds one node
 * and returns its name (the name of its output).
 */
public final class GraphBuilder {
    private final String inputName;
    private final Shape inputShape;
    private final List<Node> nodes = new ArrayList<>();
    private final ParamStore params = new ParamStore();

    public GraphBuilder(String inputName, Shape inputShape) {
        this.inputName = inputName;
        this.inputShape = inputShape;
    }

    public String input() {
        return inputName;
    }

    public ParamStore params() {
        return params;
    }

    public String add(String name, Layer layer, String... inputs) {
        nodes.add(new Node(name, layer, List.of(inputs)));
        return name;
    }

    public String add(String name, Layer layer, List<String> inputs) {
        nodes.add(new Node(name, layer, inputs));
        return name;
    }

    public String conv(String name, String in, ConvSpec spec, boolean bias) {
        return add(name, new Layer.Conv2d(spec, bias), in);
    }

    public String conv(String name, String in, int cin, int cout, int k, int stride, int pad, boolean bias) {
        return conv(name, in, ConvSpec.of(cin, cout, k, stride, pad), bias);
    }

    /** BatchNorm2d with PyTorch's defaults unless given (eps 1e-5, momentum 0.1). */
    public String bn(String name, String in, int channels, float eps) {
        return add(name, new Layer.BatchNorm2d(channels, eps, 0.1f), in);
    }

    public String bn(String name, String in, int channels) {
        return bn(name, in, channels, 1e-5f);
    }

    public String relu(String name, String in) {
        return add(name, new Layer.Relu(), in);
    }

    public String maxPool(String name, String in, int k, int stride, int pad, boolean ceil) {
        return add(name, new Layer.MaxPool2d(PoolSpec.of(k, stride, pad, ceil)), in);
    }

    public String avgPool(String name, String in, int k, int stride, int pad, boolean ceil) {
        return add(name, new Layer.AvgPool2d(PoolSpec.of(k, stride, pad, ceil)), in);
    }

    public String globalAvgPool(String name, String in) {
        return add(name, new Layer.GlobalAvgPool(), in);
    }

    public String flatten(String name, String in) {
        return add(name, new Layer.Flatten(), in);
    }

    public String linear(String name, String in, int cin, int cout, boolean bias) {
        return add(name, new Layer.Linear(cin, cout, bias), in);
    }

    public String dropout(String name, String in, float p) {
        return add(name, new Layer.Dropout(p), in);
    }

    public String concat(String name, String... ins) {
        return add(name, new Layer.Concat(), ins);
    }

    public String sum(String name, String... ins) {
        return add(name, new Layer.Add(), ins);
    }

    /** Builds the graph with {@code output} as its output; allocates any parameter not yet set. */
    public Graph build(String output) {
        Graph g = new Graph(inputName, inputShape, nodes, output, params);
        g.allocateMissingParams();
        g.validateParams();
        g.shapes(1);
        return g;
    }
}
