package netslim.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import netslim.NetslimException;

/** Comma-separated name globs: {@code *} any run of characters (dots included), {@code ?} one character. */
final class LayerGlob {
    private final List<Pattern> patterns;

    private LayerGlob(List<Pattern> patterns) {
        this.patterns = patterns;
    }

    static LayerGlob parse(String spec) {
        List<Pattern> ps = new ArrayList<>();
        for (String part : spec.split(",")) {
            String glob = part.trim();
            if (glob.isEmpty()) throw new NetslimException("--layers '" + spec + "' has an empty pattern");
            StringBuilder re = new StringBuilder();
            for (char ch : glob.toCharArray()) {
                if (ch == '*') re.append(".*");
                else if (ch == '?') re.append('.');
                else re.append(Pattern.quote(String.valueOf(ch)));
            }
            ps.add(Pattern.compile(re.toString()));
        }
        return new LayerGlob(ps);
    }

    boolean matches(String name) {
        for (Pattern p : patterns) if (p.matcher(name).matches()) return true;
        return false;
    }

    /** Whether any of the names matches. */
    boolean matchesAny(List<String> names) {
        for (String n : names) if (matches(n)) return true;
        return false;
    }
}
