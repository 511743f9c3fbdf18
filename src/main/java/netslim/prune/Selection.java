package netslim.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.prune.ChannelGroups.Group;

/**
 * Which channels a round removes, from the groups' scores: global ranking of L2-normalised scores (or per group),
 * the per-group floor, never zero channels, and round-to. Groups are identified across rounds by name (their first
 * producer), so floors and per-layer targets refer to the unpruned widths in {@code originals}.
 */
final class Selection {
    private Selection() {
    }

    /** One candidate channel: its normalised score, its group's position and its index in the group. */
    private record Candidate(double score, int groupOrder, int index) {
    }

    /**
     * The mask for round {@code round} of {@code o.steps()}: the cumulative target is ratio·round/steps of the
     * eligible channels (globally, or of each group with {@code perLayer}).
     */
    static ChannelMask select(ChannelGroups groups, Map<Integer, double[]> scores, PruneOptions o,
                              Map<String, Integer> originals, int round) {
        List<Group> eligible = new ArrayList<>();
        for (Group g : groups.prunable()) if (originals.containsKey(g.name())) eligible.add(g);
        double fraction = o.ratio() * round / o.steps();
        int[] remove = new int[eligible.size()];
        if (o.perLayer()) {
            for (int i = 0; i < remove.length; i++) {
                Group g = eligible.get(i);
                int orig = originals.get(g.name());
                int target = Math.max(o.minKeep(orig), orig - (int) Math.round(fraction * orig));
                remove[i] = Math.max(0, g.width() - target);
            }
        } else {
            remove = globalCounts(eligible, scores, o, originals, fraction);
        }
        Map<Integer, int[]> chosen = new LinkedHashMap<>();
        for (int i = 0; i < remove.length; i++) {
            Group g = eligible.get(i);
            if (remove[i] == 0) continue;
            int kept = roundKept(g.width() - remove[i], g.width(), o.minKeep(originals.get(g.name())), o.roundTo());
            if (kept < g.width()) chosen.put(g.id(), lowest(scores.get(g.id()), g.width() - kept));
        }
        return ChannelMask.of(chosen);
    }

    /** Per group, how many channels the global ranking removes this round. */
    private static int[] globalCounts(List<Group> eligible, Map<Integer, double[]> scores, PruneOptions o,
                                      Map<String, Integer> originals, double fraction) {
        int total = 0, current = 0;
        for (Group g : eligible) {
            total += originals.get(g.name());
            current += g.width();
        }
        int toRemove = (int) Math.round(fraction * total) - (total - current);
        List<Candidate> cands = new ArrayList<>();
        int[] capacity = new int[eligible.size()];
        for (int i = 0; i < eligible.size(); i++) {
            Group g = eligible.get(i);
            capacity[i] = Math.max(0, g.width() - o.minKeep(originals.get(g.name())));
            double[] s = normalised(scores.get(g.id()));
            for (int k = 0; k < s.length; k++) cands.add(new Candidate(s[k], i, k));
        }
        cands.sort(Comparator.comparingDouble(Candidate::score).thenComparingInt(Candidate::groupOrder)
                .thenComparingInt(Candidate::index));
        int[] remove = new int[eligible.size()];
        for (Candidate c : cands) {
            if (toRemove <= 0) break;
            if (remove[c.groupOrder()] < capacity[c.groupOrder()]) {
                remove[c.groupOrder()]++;
                toRemove--;
            }
        }
        return remove;
    }

    /** s / ‖s‖₂ (all zeros stay zeros): layers with larger filters or activations do not dominate the ranking. */
    static double[] normalised(double[] s) {
        double norm = 0;
        for (double v : s) norm += v * v;
        norm = Math.sqrt(norm);
        double[] out = new double[s.length];
        for (int i = 0; i < s.length; i++) out[i] = norm > 0 ? s[i] / norm : 0;
        return out;
    }

    /** Indices of the {@code n} lowest scores (ties: lower index first), sorted. */
    static int[] lowest(double[] scores, int n) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> scores[i]).thenComparingInt(i -> i));
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = order[i];
        Arrays.sort(out);
        return out;
    }

    /**
     * Round-to: the kept width becomes the candidate nearest to {@code kept} (ties: the larger) among the multiples
     * of {@code r} in [minKeep, width) and width itself (no pruning). With no such multiple, {@code kept} stays.
     */
    static int roundKept(int kept, int width, int minKeep, int r) {
        if (r <= 1 || kept >= width) return kept;
        int lo = Math.max(r, (minKeep + r - 1) / r * r);
        if (lo >= width) return kept;
        int best = width;
        for (int m = (width - 1) / r * r; m >= lo; m -= r) { // from the largest down: ties keep the larger
            if (Math.abs(m - kept) < Math.abs(best - kept)) best = m;
        }
        return best;
    }
}
