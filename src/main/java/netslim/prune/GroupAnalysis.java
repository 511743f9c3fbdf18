package netslim.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Member;
import netslim.prune.ChannelGroups.Role;
import netslim.prune.ChannelGroups.TensorChannels;
import netslim.tensor.Shape;

/** The slot union-find behind {@link ChannelGroups#of}; see that class for the rules. One use per instance. */
final class GroupAnalysis {
    /** The slots of one tensor: ids base … base+channels−1; {@code unit} columns per channel when flattened. */
    private record Slots(int base, int channels, int unit) {
    }

    /** A node's part in a group, before the groups exist: which of its tensors, in which role. */
    private record Part(String node, Role role, String tensor) {
    }

    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final Map<String, Slots> slots = new LinkedHashMap<>();
    private final List<String> sources = new ArrayList<>();
    private final List<Part> parts = new ArrayList<>();
    private final UnionFind slotSets = new UnionFind();
    private final Map<Integer, String> blocked = new HashMap<>(); // slot → why its group cannot be pruned

    GroupAnalysis(Graph graph) {
        this.graph = graph;
        this.shapes = graph.shapes(1);
    }

    ChannelGroups run() {
        Shape in = shapes.get(graph.inputName());
        Slots input = fresh(graph.inputName(), in.dim(1), unitOf(in, in.dim(1)));
        block(input, "it holds the graph input's channels");
        parts.add(new Part(graph.inputName(), Role.INPUT, graph.inputName()));
        for (Node n : graph.nodes()) visit(n);
        block(slots.get(graph.outputName()), "it feeds the graph output " + graph.outputName());
        return assemble();
    }

    // ---- slots ----------------------------------------------------------------------------------------------

    private static int unitOf(Shape s, int channels) {
        return (int) (s.numel() / ((long) s.dim(0) * Math.max(1, channels)));
    }

    private Slots newSlots(String tensor, int channels, int unit) {
        Slots s = new Slots(slotSets.add(channels), channels, unit);
        slots.put(tensor, s);
        return s;
    }

    /** Slots that start here (a conv's or Linear's output, the input): a source of channels. */
    private Slots fresh(String tensor, int channels, int unit) {
        sources.add(tensor);
        return newSlots(tensor, channels, unit);
    }

    /** Slots tied one to one to those of {@code from} (shifted by {@code offset} in this tensor). */
    private void tie(Slots to, int offset, Slots from) {
        for (int c = 0; c < from.channels(); c++) slotSets.union(to.base() + offset + c, from.base() + c);
    }

    private void block(Slots s, String reason) {
        for (int c = 0; c < s.channels(); c++) blocked.putIfAbsent(s.base() + c, reason);
    }

    // ---- the rules ------------------------------------------------------------------------------------------

    private void visit(Node n) {
        String name = n.name();
        Shape out = shapes.get(name);
        Slots in0 = slots.get(n.inputs().get(0));
        Layer l = n.layer();
        if (l instanceof Layer.Conv2d c) {
            conv(n, c, in0, out);
        } else if (l instanceof Layer.Linear lin) {
            parts.add(new Part(name, Role.LINEAR, n.inputs().get(0)));
            Slots o = fresh(name, lin.out(), 1);
            block(o, "it holds the outputs of Linear " + name + ", which are never pruned");
            parts.add(new Part(name, Role.FIXED, name));
        } else if (l instanceof Layer.Concat) {
            Slots o = newSlots(name, out.dim(1), unitOf(out, out.dim(1)));
            int offset = 0;
            for (String input : n.inputs()) {
                Slots s = slots.get(input);
                tie(o, offset, s);
                offset += s.channels();
            }
            parts.add(new Part(name, Role.PASSTHROUGH, name));
        } else if (l instanceof Layer.Add) {
            add(n, out);
        } else {
            // channel-wise layers: BatchNorm, ReLU, Clip, pools, Dropout, Identity, Flatten
            // a 4-D output has H·W columns per channel; a flatten keeps its input's (C-order: channel-major)
            int unit = out.rank() == 4 ? out.dim(2) * out.dim(3) : in0.unit();
            Slots o = newSlots(name, in0.channels(), unit);
            tie(o, 0, in0);
            parts.add(new Part(name, l instanceof Layer.BatchNorm2d ? Role.BATCHNORM : Role.PASSTHROUGH, name));
            if (l instanceof Layer.Clip clip && !(clip.lo() <= 0f && clip.hi() >= 0f)) {
                block(o, "Clip " + name + " maps 0 to " + Math.min(Math.max(0f, clip.lo()), clip.hi())
                        + ", so a masked channel would not stay zero");
            }
        }
    }

    private void conv(Node n, Layer.Conv2d c, Slots in, Shape out) {
        String name = n.name();
        int groups = c.spec().groups();
        if (groups == 1) {
            parts.add(new Part(name, Role.CONSUMER, n.inputs().get(0)));
            fresh(name, out.dim(1), unitOf(out, out.dim(1)));
            parts.add(new Part(name, Role.PRODUCER, name));
        } else if (c.spec().isDepthwise()) {
            Slots o = newSlots(name, out.dim(1), unitOf(out, out.dim(1)));
            tie(o, 0, in);
            parts.add(new Part(name, Role.DEPTHWISE, name));
        } else {
            Slots o = fresh(name, out.dim(1), unitOf(out, out.dim(1)));
            String why = "grouped conv " + name + " (groups=" + groups + ", not depthwise) ties its channels in blocks";
            block(in, why);
            block(o, why);
            parts.add(new Part(name, Role.GROUPED, n.inputs().get(0)));
            parts.add(new Part(name, Role.GROUPED, name));
        }
    }

    private void add(Node n, Shape out) {
        Slots first = slots.get(n.inputs().get(0));
        boolean aligned = true;
        for (String input : n.inputs()) {
            Slots s = slots.get(input);
            aligned &= s.channels() == first.channels() && s.unit() == first.unit();
        }
        if (aligned) {
            Slots o = newSlots(n.name(), first.channels(), first.unit());
            for (String input : n.inputs()) tie(o, 0, slots.get(input));
        } else {
            // e.g. a flattened map added to a Linear's output: columns do not map to channels one to one
            String why = "Add " + n.name() + " sums tensors whose channels do not line up";
            Slots o = fresh(n.name(), out.dim(1), 1);
            block(o, why);
            for (String input : n.inputs()) block(slots.get(input), why);
        }
        parts.add(new Part(n.name(), Role.PASSTHROUGH, n.name()));
    }

    // ---- from slots to groups -------------------------------------------------------------------------------

    private ChannelGroups assemble() {
        int slotCount = slotSets.size();
        // channel classes: one per slot set; groups: classes that share a source tensor
        int[] classOf = new int[slotCount];
        Map<Integer, Integer> classOfRoot = new HashMap<>();
        for (int s = 0; s < slotCount; s++) {
            classOf[s] = classOfRoot.computeIfAbsent(slotSets.find(s), r -> classOfRoot.size());
        }
        UnionFind classSets = new UnionFind();
        classSets.add(classOfRoot.size());
        for (String src : sources) {
            Slots s = slots.get(src);
            for (int c = 1; c < s.channels(); c++) classSets.union(classOf[s.base()], classOf[s.base() + c]);
        }
        // number groups and their channels in topological order of the sources
        int[] groupOfClass = new int[classOfRoot.size()], indexOfClass = new int[classOfRoot.size()];
        Arrays.fill(groupOfClass, -1);
        Map<Integer, Integer> groupOfRoot = new HashMap<>();
        List<int[]> widths = new ArrayList<>();
        List<String> firstSource = new ArrayList<>();
        for (String src : sources) {
            Slots s = slots.get(src);
            for (int c = 0; c < s.channels(); c++) {
                int k = classOf[s.base() + c];
                if (groupOfClass[k] >= 0) continue;
                int g = groupOfRoot.computeIfAbsent(classSets.find(k), r -> {
                    widths.add(new int[1]);
                    firstSource.add(src);
                    return groupOfRoot.size();
                });
                groupOfClass[k] = g;
                indexOfClass[k] = widths.get(g)[0]++;
            }
        }
        String[] reasons = new String[widths.size()];
        for (Map.Entry<Integer, String> e : blocked.entrySet()) {
            int g = groupOfClass[classOf[e.getKey()]];
            if (reasons[g] == null) reasons[g] = e.getValue();
        }
        Map<String, TensorChannels> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Slots> e : slots.entrySet()) {
            Slots s = e.getValue();
            int[] group = new int[s.channels()], index = new int[s.channels()];
            for (int c = 0; c < s.channels(); c++) {
                int k = classOf[s.base() + c];
                group[c] = groupOfClass[k];
                index[c] = indexOfClass[k];
            }
            tensors.put(e.getKey(), new TensorChannels(e.getKey(), group, index, s.unit()));
        }
        return new ChannelGroups(graph, groups(widths, firstSource, reasons, tensors), tensors);
    }

    private List<Group> groups(List<int[]> widths, List<String> firstSource, String[] reasons,
                               Map<String, TensorChannels> tensors) {
        List<List<Member>> members = new ArrayList<>();
        for (int g = 0; g < widths.size(); g++) members.add(new ArrayList<>());
        for (Part p : parts) {
            TensorChannels t = tensors.get(p.tensor());
            // split the tensor's channels by group, keeping channel order
            Map<Integer, List<Integer>> byGroup = new LinkedHashMap<>();
            for (int c = 0; c < t.channels(); c++) byGroup.computeIfAbsent(t.group()[c], k -> new ArrayList<>()).add(c);
            for (Map.Entry<Integer, List<Integer>> e : byGroup.entrySet()) {
                int[] channels = e.getValue().stream().mapToInt(Integer::intValue).toArray();
                int[] indices = Arrays.stream(channels).map(c -> t.index()[c]).toArray();
                members.get(e.getKey()).add(new Member(p.node(), p.role(), channels, indices, t.unit()));
            }
        }
        List<Group> out = new ArrayList<>();
        for (int g = 0; g < widths.size(); g++) {
            List<String> producers = members.get(g).stream().filter(m -> m.role() == Role.PRODUCER)
                    .map(Member::node).distinct().toList();
            String name = producers.isEmpty() ? firstSource.get(g) : producers.get(0);
            String reason = reasons[g];
            if (reason == null && producers.isEmpty()) reason = "no ordinary conv produces it";
            out.add(new Group(g, name, widths.get(g)[0], producers, List.copyOf(members.get(g)), reason));
        }
        return out;
    }

    /** Union-find over ints with path halving and union by size; grows as slots are added. */
    static final class UnionFind {
        private int[] parent = new int[64];
        private int[] size = new int[64];
        private int count;

        /** Adds n singleton sets; returns the first new id. */
        int add(int n) {
            int first = count;
            if (count + n > parent.length) {
                int cap = Math.max(parent.length * 2, count + n);
                parent = Arrays.copyOf(parent, cap);
                size = Arrays.copyOf(size, cap);
            }
            for (int i = 0; i < n; i++) {
                parent[count] = count;
                size[count] = 1;
                count++;
            }
            return first;
        }

        int size() {
            return count;
        }

        int find(int x) {
            while (parent[x] != x) {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }

        void union(int a, int b) {
            int ra = find(a), rb = find(b);
            if (ra == rb) return;
            if (size[ra] < size[rb]) {
                int t = ra;
                ra = rb;
                rb = t;
            }
            parent[rb] = ra;
            size[ra] += size[rb];
        }
    }
}
