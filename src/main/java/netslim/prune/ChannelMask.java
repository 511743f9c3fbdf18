package netslim.prune;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Member;
import netslim.tensor.Tensor;

/**
 * The channels chosen for removal: per group id, the sorted group indices to remove.
 *
 * <p>{@link #apply} turns a model into the <i>masked</i> model, whose function is defined without those channels
 * (the BN-β trap, NNI #2130): for every removed channel it zeroes the weight row and bias entry of every producing
 * conv (ordinary and depthwise) and γ and β of every BatchNorm in the group. Then every tensor slot of the channel is
 * exactly zero — by induction in topological order: a zeroed conv outputs 0 (its inputs are finite); a BatchNorm
 * with γ = β = 0 outputs γ·(x−μ)/σ + β = 0 whatever its input and statistics, in inference and in training; ReLU,
 * Clip (only those with f(0) = 0 are allowed in a prunable group), pools, Dropout, Identity and Flatten map zeros to
 * zeros; a concat copies them; an add sums zeros (every summand is in the same channel). Consumers then read zeros,
 * so removing the channel (see {@link Compactor}) changes nothing but float summation order. Zeroing only the conv
 * (as naive implementations do) would leave BatchNorm emitting β − γ·μ/σ, a constant that compaction drops and that
 * cannot be folded exactly into a zero-padded consumer.
 */
public final class ChannelMask {
    private final Map<Integer, int[]> removed;

    private ChannelMask(Map<Integer, int[]> removed) {
        this.removed = removed;
    }

    /** A mask from group id → group indices to remove (copied, sorted, empty entries dropped). */
    public static ChannelMask of(Map<Integer, int[]> removed) {
        Map<Integer, int[]> m = new LinkedHashMap<>();
        for (Map.Entry<Integer, int[]> e : removed.entrySet()) {
            int[] r = e.getValue().clone();
            Arrays.sort(r);
            if (r.length > 0) m.put(e.getKey(), r);
        }
        return new ChannelMask(Collections.unmodifiableMap(m));
    }

    /** Removed indices of group {@code id} (sorted; empty when none). */
    public int[] removed(int groupId) {
        int[] r = removed.get(groupId);
        return r == null ? new int[0] : r.clone();
    }

    /** Group id → removed indices. */
    public Map<Integer, int[]> asMap() {
        return removed;
    }

    /** Total number of removed channels. */
    public int count() {
        return removed.values().stream().mapToInt(a -> a.length).sum();
    }

    public boolean isEmpty() {
        return removed.isEmpty();
    }

    /** Per group: true at each removed index. */
    boolean[] flags(Group g) {
        boolean[] f = new boolean[g.width()];
        for (int i : removed(g.id())) f[i] = true;
        return f;
    }

    /**
     * Masks {@code graph} in place (its parameters change; {@code groups} must describe it). Throws
     * {@link IllegalArgumentException} for an unprunable group or a group emptied entirely.
     */
    public void apply(Graph graph, ChannelGroups groups) {
        ParamStore p = graph.params();
        for (Map.Entry<Integer, int[]> e : removed.entrySet()) {
            Group g = groups.group(e.getKey());
            if (!g.prunable()) throw new IllegalArgumentException(g + " cannot be masked");
            if (e.getValue().length >= g.width()) throw new IllegalArgumentException("masking every channel of " + g);
            boolean[] gone = flags(g);
            for (Member m : g.members()) {
                for (int i = 0; i < m.channels().length; i++) {
                    if (gone[m.indices()[i]]) zero(p, graph, m, m.channels()[i]);
                }
            }
        }
    }

    private static void zero(ParamStore p, Graph graph, Member m, int c) {
        switch (m.role()) {
            case PRODUCER, DEPTHWISE -> {
                Slices.zeroRow(p.get(m.node() + ".weight"), c);
                Tensor bias = p.getOrNull(m.node() + ".bias");
                if (bias != null) bias.set(c, 0f);
            }
            case BATCHNORM -> {
                p.get(m.node() + ".weight").set(c, 0f);
                p.get(m.node() + ".bias").set(c, 0f);
            }
            default -> {
                // consumers read zeros; pass-through nodes have no parameters
            }
        }
    }

    /**
     * The channels of {@code graph} that are masked as {@link #apply} masks them (every producing conv row and bias
     * entry zero, every BatchNorm γ and β zero), so that {@link Compactor} can compact a model masked elsewhere
     * (e.g. saved masked and fine-tuned). At least one channel of each group is always left.
     */
    public static ChannelMask detect(Graph graph, ChannelGroups groups) {
        Map<Integer, int[]> out = new LinkedHashMap<>();
        for (Group g : groups.prunable()) {
            boolean[] zero = new boolean[g.width()];
            Arrays.fill(zero, true);
            for (Member m : g.members()) {
                for (int i = 0; i < m.channels().length; i++) {
                    if (!isZero(graph, m, m.channels()[i])) zero[m.indices()[i]] = false;
                }
            }
            int[] idx = java.util.stream.IntStream.range(0, g.width()).filter(k -> zero[k]).toArray();
            if (idx.length == g.width()) idx = Arrays.copyOfRange(idx, 1, idx.length);
            if (idx.length > 0) out.put(g.id(), idx);
        }
        return of(out);
    }

    private static boolean isZero(Graph graph, Member m, int c) {
        ParamStore p = graph.params();
        return switch (m.role()) {
            case PRODUCER, DEPTHWISE -> {
                Tensor bias = p.getOrNull(m.node() + ".bias");
                yield Slices.rowIsZero(p.get(m.node() + ".weight"), c) && (bias == null || bias.get(c) == 0f);
            }
            case BATCHNORM -> p.get(m.node() + ".weight").get(c) == 0f && p.get(m.node() + ".bias").get(c) == 0f;
            default -> true;
        };
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ChannelMask{");
        removed.forEach((k, v) -> b.append(k).append('=').append(Arrays.toString(v)).append(' '));
        return b.append('}').toString();
    }
}
