package netslim.io;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;

/**
 * The graph.json document of an .nsm file (format "netslim", version 1):
 * <pre>
 * {"format": "netslim", "version": 1,
 *  "input": {"name": "input", "shape": [C, H, W]},
 *  "output": "fc",
 *  "nodes": [{"name": "conv1", "kind": "Conv2d", "inputs": ["input"], "attrs": {...}}, ...],
 *  "tensors": {"conv1.weight": [16, 3, 3, 3], ...},
 *  "metadata": {"key": any JSON value, ...}}
 * </pre>
 * Node attrs are defined by {@link LayerCodec}. Each tensor is stored as the ZIP entry {@code <name>.npy}. Graph
 * metadata values are JSON strings in memory and embedded as JSON values here.
 */
final class GraphJson {
    static final String FORMAT = "netslim";
    static final int VERSION = 1;
    private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();

    private GraphJson() {
    }

    /** A decoded document: the graph (with an empty parameter store) and the tensor shapes it declares. */
    record Decoded(Graph graph, Map<String, Shape> tensors) {
    }

    static byte[] encode(Graph g) {
        JsonObject root = new JsonObject();
        root.addProperty("format", FORMAT);
        root.addProperty("version", VERSION);
        JsonObject input = new JsonObject();
        input.addProperty("name", g.inputName());
        input.add("shape", JsonFields.intArray(g.inputShape().dims()));
        root.add("input", input);
        root.addProperty("output", g.outputName());
        JsonArray nodes = new JsonArray();
        for (Node n : g.nodes()) {
            JsonObject o = new JsonObject();
            o.addProperty("name", n.name());
            o.addProperty("kind", LayerCodec.kindName(n.layer()));
            JsonArray ins = new JsonArray();
            n.inputs().forEach(ins::add);
            o.add("inputs", ins);
            o.add("attrs", LayerCodec.encode(n.layer()));
            nodes.add(o);
        }
        root.add("nodes", nodes);
        JsonObject tensors = new JsonObject();
        g.params().values().forEach((name, t) -> tensors.add(name, JsonFields.intArray(t.shape().dims())));
        root.add("tensors", tensors);
        JsonObject meta = new JsonObject();
        for (Map.Entry<String, String> e : g.metadata().entrySet()) {
            try {
                meta.add(e.getKey(), parseStrict(e.getValue()));
            } catch (IOException | JsonParseException | IllegalStateException ex) {
                throw new NetslimException("metadata entry " + e.getKey() + " is not valid JSON: "
                        + IoErrors.describe(ex), ex);
            }
        }
        root.add("metadata", meta);
        return format(root).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Readable and diff-friendly: one top-level field per line, and inside the top-level containers (nodes, tensors,
     * metadata) one compact entry per line.
     */
    static String format(JsonObject root) {
        StringBuilder b = new StringBuilder("{\n");
        int i = 0;
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            b.append("  ").append(COMPACT.toJson(e.getKey())).append(": ");
            appendOnePerLine(b, e.getValue());
            b.append(++i < root.size() ? ",\n" : "\n");
        }
        return b.append("}\n").toString();
    }

    private static void appendOnePerLine(StringBuilder b, JsonElement v) {
        if (v.isJsonArray() && !v.getAsJsonArray().isEmpty() && !v.getAsJsonArray().get(0).isJsonPrimitive()) {
            JsonArray a = v.getAsJsonArray();
            b.append("[\n");
            for (int i = 0; i < a.size(); i++) {
                b.append("    ").append(COMPACT.toJson(a.get(i))).append(i + 1 < a.size() ? ",\n" : "\n");
            }
            b.append("  ]");
        } else if (v.isJsonObject() && !v.getAsJsonObject().isEmpty()) {
            b.append("{\n");
            int i = 0;
            JsonObject o = v.getAsJsonObject();
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                b.append("    ").append(COMPACT.toJson(e.getKey())).append(": ").append(COMPACT.toJson(e.getValue()))
                        .append(++i < o.size() ? ",\n" : "\n");
            }
            b.append("  }");
        } else {
            b.append(COMPACT.toJson(v));
        }
    }

    /** Parses exactly one strict JSON value (no comments, unquoted names or trailing text). */
    static JsonElement parseStrict(String text) throws IOException {
        JsonReader r = new JsonReader(new StringReader(text));
        r.setStrictness(Strictness.STRICT);
        JsonElement e = COMPACT.getAdapter(JsonElement.class).read(r);
        if (r.peek() != JsonToken.END_DOCUMENT) throw new JsonParseException("unexpected text after the JSON value");
        return e;
    }

    /** Decodes graph.json; {@code file} starts every error message. Validates everything but the tensor data. */
    static Decoded decode(JsonElement rootElement, String file) {
        JsonFields root = new JsonFields(rootElement, file + ": graph.json");
        String format = root.has("format") ? root.string("format") : "(none)";
        if (!format.equals(FORMAT)) throw new NetslimException(file + ": not a netslim model (format " + format + ")");
        int version = root.integer("version");
        if (version != VERSION) {
            throw new NetslimException(file + ": .nsm version " + version + " is not supported (this netslim reads "
                    + "version " + VERSION + ")");
        }
        JsonFields input = root.object("input", file + ": graph.json input");
        String inputName = input.string("name");
        Shape inputShape = shape(input, "shape", input.where());
        input.finish();
        String output = root.string("output");
        List<Node> nodes = nodes(root.array("nodes"), file);
        Map<String, Shape> tensors = tensors(root.object("tensors", file + ": graph.json tensors"));
        Map<String, String> metadata = new LinkedHashMap<>();
        if (root.has("metadata")) {
            JsonFields meta = root.object("metadata", file + ": graph.json metadata");
            meta.raw().entrySet().forEach(e -> metadata.put(e.getKey(), COMPACT.toJson(e.getValue())));
        }
        root.finish();
        Graph g;
        try {
            g = new Graph(inputName, inputShape, nodes, output, new ParamStore());
            g.shapes(1);
        } catch (NetslimException e) {
            throw new NetslimException(file + ": " + e.getMessage(), e);
        }
        g.metadata().putAll(metadata);
        checkDeclaredTensors(g, tensors, file);
        return new Decoded(g, tensors);
    }

    private static List<Node> nodes(JsonArray array, String file) {
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonFields n = new JsonFields(array.get(i), file + ": graph.json nodes[" + i + "]");
            String name = n.string("name");
            if (name.isEmpty()) throw n.error("name", "is empty");
            String where = file + ": node " + name;
            List<String> inputs = new ArrayList<>();
            for (JsonElement e : n.array("inputs")) {
                if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
                    throw new NetslimException(where + ": inputs must be strings");
                }
                inputs.add(e.getAsString());
            }
            Layer layer = LayerCodec.decode(n.string("kind"), n.object("attrs", where).raw(), where);
            n.finish();
            nodes.add(new Node(name, layer, inputs));
        }
        return nodes;
    }

    private static Map<String, Shape> tensors(JsonFields t) {
        Map<String, Shape> out = new LinkedHashMap<>();
        for (String name : t.raw().keySet()) out.put(name, shape(t, name, t.where() + " " + name));
        return out;
    }

    /** Non-negative dimensions whose product fits a Java array. */
    private static Shape shape(JsonFields f, String field, String where) {
        int[] d = f.ints(field, -1);
        long numel = 1;
        for (int v : d) {
            if (v < 0) throw new NetslimException(where + ": negative dimension in shape");
            numel *= v;
            if (numel > Integer.MAX_VALUE - 8) throw new NetslimException(where + ": shape is too large");
        }
        return new Shape(d);
    }

    /** The declared tensors must be exactly the layers' parameters, with the layers' shapes. */
    private static void checkDeclaredTensors(Graph g, Map<String, Shape> declared, String file) {
        Map<String, Shape> expected = new LinkedHashMap<>();
        Map<String, Node> owner = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            n.layer().params().forEach((suffix, s) -> {
                expected.put(n.name() + "." + suffix, s);
                owner.put(n.name() + "." + suffix, n);
            });
        }
        for (Map.Entry<String, Shape> e : expected.entrySet()) {
            Shape d = declared.get(e.getKey());
            Node n = owner.get(e.getKey());
            String layer = "node " + n.name() + " (" + n.layer().kind() + ")";
            if (d == null) {
                throw new NetslimException(file + ": tensor " + e.getKey() + " of " + layer
                        + " is not listed in graph.json tensors");
            }
            if (!d.equals(e.getValue())) {
                throw new NetslimException(file + ": tensor " + e.getKey() + ": graph.json declares shape " + d + ", "
                        + layer + " expects " + e.getValue());
            }
        }
        for (String name : declared.keySet()) {
            if (!expected.containsKey(name)) throw new NetslimException(file + ": tensor " + name + " belongs to no layer");
        }
    }
}
