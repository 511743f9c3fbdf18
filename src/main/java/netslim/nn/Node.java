package netslim.nn;

import java.util.List;

/** One named node of a {@link Graph}: a layer applied to the outputs of earlier nodes (or the graph input). */
public record Node(String name, Layer layer, List<String> inputs) {
    public Node {
        inputs = List.copyOf(inputs);
    }
}
