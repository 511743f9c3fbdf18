package netslim.prune;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.nn.Graph;

/**
 * Which channels of a graph move together when a filter is removed: the channel dependency groups of structured
 * pruning (Torch-Pruning's DepGraph idea, computed here from our explicit graph).
 *
 * <p><b>Algorithm.</b> Every channel of every tensor (the graph input and each node's output) is a <i>slot</i>.
 * Walking the nodes in topological order, slots are tied with a union-find:
 * <ul>
 *   <li>BatchNorm, ReLU, Clip, max / average / global pools, Dropout, Identity: output channel c ≡ input channel c;</li>
 *   <li>depthwise conv (groups = in = out): output channel c ≡ input channel c (in- and out-channel are tied);</li>
 *   <li>Concat: output channel (j + summed widths of the earlier inputs) ≡ channel j of input i;</li>
 *   <li>Add: output channel c ≡ channel c of every summand (so all producers of all summands share indices,
 *       recursively through earlier adds);</li>
 *   <li>Flatten: output channel c ≡ input channel c, where channel c of a 2-D tensor is the block of
 *       {@code unit} = H·W columns [c·unit, (c+1)·unit) (C-order flatten; unit = 1 after a global pool);</li>
 *   <li>an ordinary conv (groups = 1) starts fresh output slots: it is a <i>producer</i>; its input channels are
 *       consumed (a weight slice along its in-axis);</li>
 *   <li>a Linear consumes its input's columns and starts fresh output slots that are never pruned.</li>
 * </ul>
 * A <i>channel</i> of a group is one equivalence class of slots; a {@link Group} is the set of channels that share a
 * source tensor (each conv output belongs to one group, each channel of a group to one index 0 … width−1, numbered
 * in topological order of the sources). Groups are not prunable (with the reason recorded) when they touch the
 * graph input, a Linear's outputs, the graph output, a grouped conv that is not depthwise (its channels are tied in
 * blocks), a Clip that maps 0 to a non-zero value (a masked channel would not stay zero), or an Add of 2-D tensors
 * whose column blocks do not line up.
 *
 * <p>The result lists, per group, every {@link Member}: which node, in which role, which channels of its tensor axis
 * (and their group indices) — exactly the slices {@link ChannelMask} zeroes and {@link Compactor} removes.
 */
public final class ChannelGroups {

    /** How a node takes part in a group. */
    public enum Role {
        /** An ordinary conv (groups = 1): its out-channels (weight rows, bias entries) are the group's filters. */
        PRODUCER,
        /** A depthwise conv: in- and out-channel tied; its weight rows and bias entries move with the group. */
        DEPTHWISE,
        /** A BatchNorm2d: γ, β, running mean and variance entries. */
        BATCHNORM,
        /** An element-wise, pooling, concat, add or flatten node: its output channels, nothing to slice. */
        PASSTHROUGH,
        /** An ordinary conv reading the group: its in-channels (weight slice along axis 1). */
        CONSUMER,
        /** A Linear reading the group: its input columns, {@code unit} per channel. */
        LINEAR,
        /** A grouped (not depthwise) conv reading or writing the group: makes it unprunable. */
        GROUPED,
        /** The graph input: never pruned. */
        INPUT,
        /** A Linear's outputs (class scores): never pruned. */
        FIXED
    }

    /**
     * One node's share of a group: {@code channels[i]} is a channel of the node's tensor axis (the output for
     * producers and pass-through nodes, the input for consumers) and {@code indices[i]} its index in the group.
     * For {@link Role#LINEAR}, channel c stands for columns [c·unit, (c+1)·unit) of the Linear's input.
     */
    public record Member(String node, Role role, int[] channels, int[] indices, int unit) {
        /** The channel holding group index 0, when the member holds the whole group contiguously; else -1. */
        public int offset() {
            for (int i = 0; i < channels.length; i++) {
                if (indices[i] != i || channels[i] != channels[0] + i) return -1;
            }
            return channels.length == 0 ? -1 : channels[0];
        }

        @Override
        public String toString() {
            return node + "(" + role + " " + Arrays.toString(channels) + ")";
        }
    }

    /**
     * One group. {@code name} is its first producer's node name; {@code producers} are the ordinary convs whose
     * filters are the group's channels (several when adds join them); {@code blockedReason} is null for a
     * prunable group.
     */
    public record Group(int id, String name, int width, List<String> producers, List<Member> members,
                        String blockedReason) {
        public boolean prunable() {
            return blockedReason == null;
        }

        /** Members in a role. */
        public List<Member> members(Role role) {
            return members.stream().filter(m -> m.role() == role).toList();
        }

        /** The member of {@code node} in {@code role}, or null. */
        public Member member(String node, Role role) {
            for (Member m : members) if (m.node().equals(node) && m.role() == role) return m;
            return null;
        }

        @Override
        public String toString() {
            return "Group " + id + " " + name + " (width " + width + (prunable() ? "" : ", not prunable: "
                    + blockedReason) + ")";
        }
    }

    /**
     * Per tensor: the group and group index of each channel, and the columns per channel ({@code unit}) of its
     * flattened form (H·W for NCHW tensors).
     */
    public record TensorChannels(String tensor, int[] group, int[] index, int unit) {
        public int channels() {
            return group.length;
        }
    }

    private final Graph graph;
    private final List<Group> groups;
    private final Map<String, TensorChannels> tensors;

    ChannelGroups(Graph graph, List<Group> groups, Map<String, TensorChannels> tensors) {
        this.graph = graph;
        this.groups = List.copyOf(groups);
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Analyses {@code graph} (its structure only; parameters are not read). */
    public static ChannelGroups of(Graph graph) {
        return new GroupAnalysis(graph).run();
    }

    /** The graph this analysis describes. */
    public Graph graph() {
        return graph;
    }

    /** Every group, in topological order of its first source. */
    public List<Group> groups() {
        return groups;
    }

    /** The prunable groups. */
    public List<Group> prunable() {
        return groups.stream().filter(Group::prunable).toList();
    }

    public Group group(int id) {
        return groups.get(id);
    }

    /** The group of a group's name (its first producer); null when there is none. */
    public Group byName(String name) {
        for (Group g : groups) if (g.name().equals(name)) return g;
        return null;
    }

    /** The group whose filters include the out-channels of conv {@code node}. */
    public Group groupOfProducer(String node) {
        for (Group g : groups) if (g.producers().contains(node)) return g;
        throw new NetslimException("layer " + node + " is not an ordinary conv producing a channel group");
    }

    /** Channel bookkeeping of a tensor (the graph input or a node output). */
    public TensorChannels tensor(String name) {
        TensorChannels t = tensors.get(name);
        if (t == null) throw new NetslimException("no tensor named " + name);
        return t;
    }

    /** One line per group, for debugging and reports. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (Group g : groups) {
            b.append(g).append(": producers ").append(g.producers()).append('\n');
        }
        return b.toString();
    }
}
