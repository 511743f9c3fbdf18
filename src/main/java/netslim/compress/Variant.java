package netslim.compress;

import java.util.List;
import java.util.Locale;

import netslim.NetslimException;

/**
 * The compressed variants of a model, named as the CLI's {@code --pipeline} and the report name them. A variant's
 * stages run in the order its name gives: {@code prune+tucker} prunes (and fine-tunes), then decomposes (and
 * fine-tunes).
 */
public enum Variant {
    PRUNE("prune", true, false),
    TUCKER("tucker", false, true),
    PRUNE_TUCKER("prune+tucker", true, true);

    /** The pipeline that runs all three from the same baseline. */
    public static final String ALL = "all";

    /** The --pipeline values, as the CLI documents them. */
    public static final String FORMS = "prune+tucker, prune, tucker or all";

    private final String label;
    private final boolean prunes, decomposes;

    Variant(String label, boolean prunes, boolean decomposes) {
        this.label = label;
        this.prunes = prunes;
        this.decomposes = decomposes;
    }

    /** The name in the CLI and the report ("prune+tucker"). */
    public String label() {
        return label;
    }

    public boolean prunes() {
        return prunes;
    }

    public boolean decomposes() {
        return decomposes;
    }

    /** The variants a --pipeline value runs: one, or for {@value #ALL} the three in the order prune, tucker, both. */
    public static List<Variant> pipeline(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals(ALL)) return List.of(PRUNE, TUCKER, PRUNE_TUCKER);
        for (Variant v : values()) if (v.label.equals(s)) return List.of(v);
        throw new NetslimException("unknown --pipeline '" + spec + "' (expected " + FORMS + ")");
    }

    /** The variant named {@code label}. */
    public static Variant of(String label) {
        for (Variant v : values()) if (v.label.equals(label)) return v;
        throw new IllegalArgumentException("no variant " + label);
    }
}
