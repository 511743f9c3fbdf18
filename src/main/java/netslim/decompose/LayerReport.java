package netslim.decompose;

import netslim.tensor.Shape;

/**
 * What {@link TuckerDecomposer} did with one selected Conv2d: replaced it by a Tucker-2 chain, by a low-rank pair
 * (1x1 convs, optional), or skipped it (with the reason). Ranks are (R3, R4) = (input side, output side); a low-rank
 * pair has R3 = R4 = R. MACs are per image, by {@link netslim.report.ModelStats}' convention; parameters count
 * weights and bias. The rank choices are null when no rank was chosen (skipped before any SVD).
 */
public record LayerReport(String name, Status status, Shape weightShape, int r3, int r4,
                          RankPolicy.Choice inChoice, RankPolicy.Choice outChoice, double relError,
                          double hosvdRelError, int hooiSweeps, long macsBefore, long macsAfter, long paramsBefore,
                          long paramsAfter, String reason, double seconds) {

    /** The outcome for a layer. */
    public enum Status {
        TUCKER2("tucker2"), LOW_RANK("lowrank"), SKIPPED("skipped");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    static LayerReport skipped(String name, Shape weightShape, long macs, long params, String reason,
                               RankPolicy.Choice in, RankPolicy.Choice out, int r3, int r4) {
        return new LayerReport(name, Status.SKIPPED, weightShape, r3, r4, in, out, Double.NaN, Double.NaN, 0, macs,
                macs, params, params, reason, 0);
    }

    /** The same report with its wall time filled in. */
    LayerReport withSeconds(double s) {
        return new LayerReport(name, status, weightShape, r3, r4, inChoice, outChoice, relError, hosvdRelError,
                hooiSweeps, macsBefore, macsAfter, paramsBefore, paramsAfter, reason, s);
    }

    public boolean replaced() {
        return status != Status.SKIPPED;
    }

    /** True when the rank floor decided R3 or R4. */
    public boolean floorHit() {
        return floorHitIn() || floorHitOut();
    }

    public boolean floorHitIn() {
        return inChoice != null && inChoice.floorHit();
    }

    public boolean floorHitOut() {
        return outChoice != null && outChoice.floorHit();
    }
}
