package netslim.prune;

import java.util.List;

/**
 * What one pruning round did.
 *
 * @param round   1-based
 * @param removed channels removed this round
 * @param groups  every eligible group after the round: kept and original (unpruned) width
 */
public record PruneRound(int round, int removed, List<GroupWidth> groups) {

    /** A group's width after a round; {@code producers} are the convs whose filters it holds. */
    public record GroupWidth(String group, List<String> producers, int kept, int original) {
    }

    /** Σ kept / Σ original over the groups. */
    public double keptFraction() {
        long k = 0, o = 0;
        for (GroupWidth g : groups) {
            k += g.kept();
            o += g.original();
        }
        return o == 0 ? 1 : (double) k / o;
    }
}
