package netslim.compress;

import java.math.BigDecimal;
import java.math.MathContext;

import netslim.NetslimException;
import netslim.decompose.RankPolicy;

/**
 * A candidate's strength: the fraction of filters pruning removes ({@code ratio}, 0 = no pruning) and the Tucker-2
 * rank policy as {@code --rank} spells it ({@code rank}, null = no decomposition).
 */
public record Settings(double ratio, String rank) {

    public Settings {
        if (!(ratio >= 0 && ratio < 1)) throw new NetslimException("prune ratio must be in [0, 1), got " + ratio);
        if (rank != null) RankPolicy.parse(rank); // validates, one line on error
    }

    public static Settings prune(double ratio) {
        return new Settings(ratio, null);
    }

    public static Settings tucker(String rank) {
        return new Settings(0, rank);
    }

    /** The weakened-EVBMF policy {@code evbmf-weak:W} with W written with at most 4 significant digits. */
    public static String weakenedEvbmf(double w) {
        return "evbmf-weak:" + number(w);
    }

    /** A setting as a person writes it: 0.4, 0.9375 (at most 4 significant digits). */
    public static String number(double v) {
        if (v == 0) return "0";
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    public boolean prunes() {
        return ratio > 0;
    }

    public boolean decomposes() {
        return rank != null;
    }

    /** "ratio 0.4", "rank evbmf-weak:0.5", "ratio 0.4, rank evbmf" or "none". */
    public String describe() {
        String p = prunes() ? "ratio " + number(ratio) : null, t = decomposes() ? "rank " + rank : null;
        if (p != null && t != null) return p + ", " + t;
        if (p != null) return p;
        return t != null ? t : "none";
    }
}
