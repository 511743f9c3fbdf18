package netslim.compress;

/**
 * What one model measured: test top-1 and top-5 (fractions in [0, 1], on the evaluation subset), parameters and
 * MACs ({@link netslim.report.ModelStats}' convention).
 */
public record Measurement(double top1, double top5, long params, long macs) {
}
