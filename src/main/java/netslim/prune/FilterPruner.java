package netslim.prune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.prune.ChannelGroups.Group;

/**
 * Iterative filter pruning: in each of {@code steps} rounds, rank the channels of every eligible group
 * ({@link Importance}), choose the lowest ({@link Selection}: global or per-layer, floor, round-to), <b>mask</b>
 * them ({@link ChannelMask#apply}: the masked model's function no longer depends on them), <b>compact</b>
 * ({@link Compactor}: a smaller graph computing the same function), then fine-tune ({@link FineTuner}, on the
 * compacted model; see there why that equals fine-tuning the masked one). Ranking is recomputed every round. The
 * input model is not changed; the result carries the history in its metadata ({@link PruneHistory}).
 */
public final class FilterPruner {

    /** Observes a run: each round's masked model (before compaction) and progress messages. */
    public interface Listener {
        default void masked(int round, Graph masked, ChannelGroups groups, ChannelMask mask) {
        }

        default void message(String text) {
        }
    }

    /** The pruned model and what each round did. */
    public record Result(Graph graph, List<PruneRound> rounds) {
    }

    private final PruneOptions options;
    private final Importance importance;
    private final FineTuner fineTuner;
    private Listener listener = new Listener() {
    };

    public FilterPruner(PruneOptions options, Importance importance, FineTuner fineTuner) {
        this.options = options;
        this.importance = importance;
        this.fineTuner = fineTuner == null ? FineTuner.NONE : fineTuner;
    }

    public FilterPruner listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Convenience: progress messages only. */
    public FilterPruner messages(Consumer<String> sink) {
        return listener(new Listener() {
            @Override
            public void message(String text) {
                sink.accept(text);
            }
        });
    }

    public Result prune(Graph model) {
        Graph g = model.copy();
        ChannelGroups initial = ChannelGroups.of(g);
        Map<String, Integer> originals = eligibleWidths(initial);
        reportUnprunable(initial);
        if (originals.isEmpty() && options.ratio() > 0) {
            throw new NetslimException("no prunable channel group has a conv matching --layers '" + options.layers()
                    + "' (" + initial.prunable().size() + " prunable groups, e.g. "
                    + initial.prunable().stream().limit(3).map(Group::name).toList() + ")");
        }
        List<PruneRound> rounds = new ArrayList<>();
        for (int round = 1; round <= options.steps(); round++) {
            ChannelGroups groups = ChannelGroups.of(g);
            Map<Integer, double[]> scores = importance.scores(g, groups);
            ChannelMask mask = Selection.select(groups, scores, options, originals, round);
            mask.apply(g, groups);
            listener.masked(round, g, groups, mask);
            g = Compactor.compact(g, groups, mask);
            rounds.add(record(round, mask.count(), ChannelGroups.of(g), originals));
            listener.message(String.format(java.util.Locale.ROOT, "round %d/%d: removed %d channels (%s), %.1f %% of"
                    + " the eligible channels kept", round, options.steps(), mask.count(), importance.name(),
                    100 * rounds.get(rounds.size() - 1).keptFraction()));
            g = fineTuner.fineTune(g, round, options.steps());
        }
        PruneHistory.append(g, importance.name(), options, rounds);
        return new Result(g, rounds);
    }

    /** Says which groups stay whole and why, except the expected ones (graph input, Linear outputs). */
    private void reportUnprunable(ChannelGroups groups) {
        for (Group g : groups.groups()) {
            boolean expected = !g.members(ChannelGroups.Role.INPUT).isEmpty()
                    || !g.members(ChannelGroups.Role.FIXED).isEmpty();
            if (!g.prunable() && !expected) listener.message("not pruned: " + g.name() + ": " + g.blockedReason());
        }
    }

    /** Original widths of the groups the options allow to lose channels, by group name. */
    private Map<String, Integer> eligibleWidths(ChannelGroups groups) {
        LayerGlob glob = LayerGlob.parse(options.layers());
        Map<String, Integer> out = new LinkedHashMap<>();
        for (Group g : groups.prunable()) {
            if (glob.matchesAny(g.producers())) out.put(g.name(), g.width());
        }
        return out;
    }

    private static PruneRound record(int round, int removed, ChannelGroups after, Map<String, Integer> originals) {
        List<PruneRound.GroupWidth> widths = new ArrayList<>();
        for (Group g : after.groups()) {
            Integer orig = originals.get(g.name());
            if (orig == null) continue;
            widths.add(new PruneRound.GroupWidth(g.name(), g.producers(), g.width(), orig));
        }
        return new PruneRound(round, removed, widths);
    }
}
