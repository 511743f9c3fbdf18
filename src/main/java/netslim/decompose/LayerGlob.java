package netslim.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import netslim.NetslimException;

/**
 * The {@code --layers} selector: comma-separated glob patterns over node names, a name matching any of them is
 * selected. {@code *} matches any run of characters (dots included, since node names are dotted module paths),
 * {@code ?} one character; everything else is literal. No pattern (null or blank) selects every node.
 */
public final class LayerGlob {
    private final String spec;
    private final List<Pattern> patterns;

    private LayerGlob(String spec, List<Pattern> patterns) {
        this.spec = spec;
        this.patterns = patterns;
    }

    public static LayerGlob parse(String spec) {
        if (spec == null || spec.isBlank()) return new LayerGlob(null, List.of());
        List<Pattern> patterns = new ArrayList<>();
        for (String part : spec.split(",")) {
            String glob = part.trim();
            if (glob.isEmpty()) throw new NetslimException("--layers '" + spec + "' has an empty pattern");
            StringBuilder regex = new StringBuilder();
            for (char c : glob.toCharArray()) {
                if (c == '*') regex.append(".*");
                else if (c == '?') regex.append('.');
                else regex.append(Pattern.quote(String.valueOf(c)));
            }
            patterns.add(Pattern.compile(regex.toString()));
        }
        return new LayerGlob(spec, patterns);
    }

    /** True when no pattern was given (every node is selected). */
    public boolean selectsAll() {
        return patterns.isEmpty();
    }

    public boolean matches(String name) {
        if (patterns.isEmpty()) return true;
        for (Pattern p : patterns) if (p.matcher(name).matches()) return true;
        return false;
    }

    @Override
    public String toString() {
        return spec == null ? "*" : spec;
    }
}
