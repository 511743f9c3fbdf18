package netslim.compress;

/**
 * One candidate the search tried: its variant and settings, what it measured, whether its top-1 reached the floor
 * (baseline − max-drop), and its place in the order of evaluation (1-based).
 */
public record SearchPoint(int index, Variant variant, Settings settings, Measurement measurement, boolean accepted) {
    public double top1() {
        return measurement.top1();
    }

    public long macs() {
        return measurement.macs();
    }

    public long params() {
        return measurement.params();
    }
}
