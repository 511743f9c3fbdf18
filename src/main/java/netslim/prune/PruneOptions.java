package netslim.prune;

import netslim.NetslimException;

/**
 * What {@link FilterPruner} removes.
 *
 * @param ratio    fraction of all eligible filters (channels of the prunable groups {@code layers} selects, counted
 *                 on the unpruned model) removed in total, in [0, 1)
 * @param steps    rounds: round k removes up to ratio·k/steps in total, re-ranking each round, then fine-tunes
 * @param perLayer rank within each group (each loses the same fraction) instead of globally after L2 normalisation
 * @param floor    each group keeps at least max(1, ⌈floor · its original width⌉) channels
 * @param roundTo  kept widths of the groups that lose channels become the nearest multiple of this that lies in
 *                 [floor, width], where one exists (1 = off); the total then lands near, not exactly at, the ratio
 * @param layers   comma-separated globs ({@code *}, {@code ?}) on layer names: a group may lose channels when one of
 *                 its producing convs matches
 */
public record PruneOptions(double ratio, int steps, boolean perLayer, double floor, int roundTo, String layers) {

    public PruneOptions {
        if (!(ratio >= 0 && ratio < 1)) throw new NetslimException("--ratio must be in [0, 1), got " + ratio);
        if (steps < 1) throw new NetslimException("--steps must be ≥ 1, got " + steps);
        if (!(floor >= 0 && floor <= 1)) throw new NetslimException("--floor must be in [0, 1], got " + floor);
        if (roundTo < 1) throw new NetslimException("--round-to must be ≥ 1, got " + roundTo);
        if (layers == null || layers.isBlank()) layers = "*";
        LayerGlob.parse(layers); // validates
    }

    /** Global ranking, one step, floor 10 %, no rounding, every layer. */
    public static PruneOptions ratio(double ratio) {
        return new PruneOptions(ratio, 1, false, 0.1, 1, "*");
    }

    public PruneOptions withSteps(int v) {
        return new PruneOptions(ratio, v, perLayer, floor, roundTo, layers);
    }

    public PruneOptions withPerLayer(boolean v) {
        return new PruneOptions(ratio, steps, v, floor, roundTo, layers);
    }

    public PruneOptions withFloor(double v) {
        return new PruneOptions(ratio, steps, perLayer, v, roundTo, layers);
    }

    public PruneOptions withRoundTo(int v) {
        return new PruneOptions(ratio, steps, perLayer, floor, v, layers);
    }

    public PruneOptions withLayers(String v) {
        return new PruneOptions(ratio, steps, perLayer, floor, roundTo, v);
    }

    /** The fewest channels a group of original width {@code original} may keep: ≥ 1, ≥ ⌈floor·original⌉. */
    public int minKeep(int original) {
        return Math.max(1, (int) Math.ceil(floor * original - 1e-9));
    }
}
