package netslim.decompose;

import java.util.Locale;

import netslim.NetslimException;

/**
 * How many singular vectors a Tucker-2 factor keeps, chosen from the spectrum of one unfolding of the kernel:
 * <ul>
 *   <li>{@code evbmf}: the EVBMF estimate ({@link Evbmf});</li>
 *   <li>{@code evbmf-weak:W} (W in [0, 1], MUSCO's weakened EVBMF): R = ⌈R_full − W·(R_full − R_evbmf)⌉, so W = 1 is
 *       EVBMF and W = 0 keeps the full rank;</li>
 *   <li>{@code energy:E} (E in (0, 1]): the smallest R whose share of Σγ² is ≥ E;</li>
 *   <li>{@code fixed:R} or {@code fixed:R3,R4}: the given ranks (R3 for the input side, R4 for the output side),
 *       capped at the full rank.</li>
 * </ul>
 * R_full = min(rows, cols) of the unfolding. The data-driven policies never go below a floor, max(1, ⌈f·R_full⌉)
 * with f = {@value #DEFAULT_FLOOR_FRACTION} by default, so no layer is ever cut to rank 0 (the EVBMF estimate is 0 for
 * a noise-like spectrum); each {@link Choice} says whether the floor decided the rank. Fixed ranks are the user's
 * explicit choice (≥ 1 by parsing) and get no floor. Optionally ranks are rounded up to a multiple (e.g. 8, for vector
 * lanes and tensor cores), capped at R_full.
 */
public final class RankPolicy {
    /** Default floor as a fraction of the full rank: 3 %, at least 1. */
    public static final double DEFAULT_FLOOR_FRACTION = 0.03;

    static final String FORMS = "evbmf, evbmf-weak:W (W in [0,1]), energy:E (E in (0,1]), fixed:R or fixed:R3,R4 "
            + "(integers ≥ 1)";

    /** The policies. */
    public enum Kind { EVBMF, EVBMF_WEAK, ENERGY, FIXED }

    /** Which rank of the Tucker-2 pair: R3 (input channels, mode-1 unfolding) or R4 (output channels, mode-0). */
    public enum Side { IN, OUT }

    /**
     * One chosen rank: {@code rank} (what is used), {@code estimate} (the policy's own value before floor and
     * rounding; 0 is possible), {@code floor}, whether the floor decided ({@code floorHit}), {@code fullRank}, and the
     * EVBMF result when the policy ran it (else null).
     */
    public record Choice(int rank, int estimate, int floor, boolean floorHit, int fullRank, Evbmf.Result evbmf) {
    }

    private final Kind kind;
    private final double parameter; // W for evbmf-weak, E for energy
    private final int fixedIn, fixedOut;
    private final double floorFraction;
    private final int roundTo;
    private final String spec;

    private RankPolicy(Kind kind, double parameter, int fixedIn, int fixedOut, double floorFraction, int roundTo,
                       String spec) {
        this.kind = kind;
        this.parameter = parameter;
        this.fixedIn = fixedIn;
        this.fixedOut = fixedOut;
        this.floorFraction = floorFraction;
        this.roundTo = roundTo;
        this.spec = spec;
    }

    /** Parses a --rank value; a bad one is a one-line {@link NetslimException} listing the accepted forms. */
    public static RankPolicy parse(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon);
        String arg = colon < 0 ? null : s.substring(colon + 1).trim();
        try {
            switch (name) {
                case "evbmf":
                    if (arg != null) break;
                    return new RankPolicy(Kind.EVBMF, 0, 0, 0, DEFAULT_FLOOR_FRACTION, 1, s);
                case "evbmf-weak": {
                    double w = Double.parseDouble(arg);
                    if (!(w >= 0 && w <= 1)) break;
                    return new RankPolicy(Kind.EVBMF_WEAK, w, 0, 0, DEFAULT_FLOOR_FRACTION, 1, s);
                }
                case "energy": {
                    double e = Double.parseDouble(arg);
                    if (!(e > 0 && e <= 1)) break;
                    return new RankPolicy(Kind.ENERGY, e, 0, 0, DEFAULT_FLOOR_FRACTION, 1, s);
                }
                case "fixed": {
                    String[] parts = arg.split(",", -1);
                    if (parts.length > 2) break;
                    int r3 = Integer.parseInt(parts[0].trim());
                    int r4 = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : r3;
                    if (r3 < 1 || r4 < 1) break;
                    return new RankPolicy(Kind.FIXED, 0, r3, r4, DEFAULT_FLOOR_FRACTION, 1, s);
                }
                default:
                    break;
            }
        } catch (NumberFormatException | NullPointerException e) {
            // fall through to the one error message below
        }
        throw new NetslimException("bad rank policy '" + spec + "' (expected " + FORMS + ")");
    }

    /** The same policy with the floor max(1, ⌈fraction·R_full⌉); fraction in [0, 1]. */
    public RankPolicy withFloorFraction(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new NetslimException("rank floor fraction must be in [0, 1], got " + fraction);
        }
        return new RankPolicy(kind, parameter, fixedIn, fixedOut, fraction, roundTo, spec);
    }

    /** The same policy with ranks rounded up to a multiple of {@code multiple} (1 = no rounding), capped at R_full. */
    public RankPolicy withRoundTo(int multiple) {
        if (multiple < 1) throw new NetslimException("--round-to must be ≥ 1, got " + multiple);
        return new RankPolicy(kind, parameter, fixedIn, fixedOut, floorFraction, multiple, spec);
    }

    public Kind kind() { return kind; }

    public double floorFraction() { return floorFraction; }

    public int roundTo() { return roundTo; }

    /** The fixed ranks (R3, R4) of a {@code fixed:} policy, else null. */
    public int[] fixedRanks() {
        return kind == Kind.FIXED ? new int[] {fixedIn, fixedOut} : null;
    }

    /** The floor for a full rank: max(1, ⌈f·R_full⌉), at most R_full. */
    public int floor(int fullRank) {
        // The small epsilon keeps ⌈0.03·100⌉ at 3 despite 0.03·100 = 3.0000000000000004 in binary floating point.
        int f = Math.max(1, (int) Math.ceil(floorFraction * fullRank - 1e-9));
        return Math.min(f, fullRank);
    }

    /**
     * The rank for one side, from all min(rows, cols) singular values (descending) of that side's unfolding
     * (rows × cols).
     */
    public Choice choose(Side side, double[] singularValues, int rows, int cols) {
        int full = Math.min(rows, cols);
        if (singularValues.length != full) {
            throw new IllegalArgumentException(singularValues.length + " singular values for a " + rows + "x" + cols
                    + " unfolding");
        }
        if (kind == Kind.FIXED) {
            int r = Math.min(side == Side.IN ? fixedIn : fixedOut, full);
            return new Choice(roundUp(r, full), r, 1, false, full, null);
        }
        Evbmf.Result evbmf = null;
        int estimate;
        if (kind == Kind.ENERGY) {
            estimate = energyRank(singularValues, parameter);
        } else {
            evbmf = Evbmf.estimate(singularValues, rows, cols);
            // Weakened EVBMF: W = 1 is plain EVBMF; rounding up keeps at least the real-valued rank.
            double w = kind == Kind.EVBMF ? 1.0 : parameter;
            estimate = (int) Math.ceil(full - w * (full - evbmf.rank()) - 1e-9);
        }
        int floor = floor(full);
        boolean floorHit = estimate < floor;
        return new Choice(roundUp(Math.max(estimate, floor), full), estimate, floor, floorHit, full, evbmf);
    }

    /** The smallest R with Σ_{h≤R} γ_h² ≥ E·Σγ² (a 1e-12 relative slack, so E = 1 ignores rounding-level energy). */
    static int energyRank(double[] gamma, double share) {
        double total = Evbmf.sumOfSquares(gamma);
        if (total == 0) return 0;
        double target = (share - 1e-12) * total, cumulative = 0;
        for (int r = 0; r < gamma.length; r++) {
            cumulative += gamma[r] * gamma[r];
            if (cumulative >= target) return r + 1;
        }
        return gamma.length;
    }

    private int roundUp(int r, int full) {
        int up = (r + roundTo - 1) / roundTo * roundTo;
        return Math.min(up, full);
    }

    /** The policy as given on the command line, plus the non-default floor and rounding. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(spec);
        if (kind != Kind.FIXED && floorFraction != DEFAULT_FLOOR_FRACTION) {
            b.append(String.format(Locale.ROOT, " (floor %.3g)", floorFraction));
        }
        if (roundTo > 1) b.append(" (round to ").append(roundTo).append(')');
        return b.toString();
    }

    /** The --rank value this policy was parsed from (normalised to lower case). */
    public String spec() {
        return spec;
    }
}
