package netslim.compress;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.DoubleFunction;

import netslim.NetslimException;

/**
 * Tunes each variant's strength so that all of them land at matched accuracy: top-1 ≥ floor = baseline − max-drop,
 * and among the candidates that reach the floor the one with the fewest MACs is chosen (then fewest parameters,
 * then highest top-1). Every candidate tried is recorded, whether it reached the floor or not.
 *
 * <p><b>One dial per variant, bisected.</b> Each variant has one strength s in (lo, hi]; compression grows with s and
 * accuracy is assumed to fall with it (it does on average; fine-tuning noise can break it locally, which is why the
 * choice is made among all points tried, not from the last bracket). A point that reaches the floor moves lo up to
 * it, one that misses moves hi down; the next point is the middle of the bracket. At most {@code steps} points per
 * variant, fewer when the bracket is narrower than {@value #RESOLUTION}. The dials:
 * <ul>
 *   <li>{@code prune}: the ratio in (0, maxRatio], starting in the middle (the strongest end, e.g. 80 % of the
 *       filters, rarely keeps accuracy, so probing it first would usually waste a step);</li>
 *   <li>{@code tucker}: the weakening factor W of {@code evbmf-weak:W} in (0, 1] (W = 0 is the full rank, i.e. no
 *       decomposition; W = 1 is EVBMF itself), starting at W = 1: plain EVBMF is the paper's choice and, after
 *       fine-tuning, often already within budget, which ends the search after one point;</li>
 *   <li>{@code prune+tucker}: two dials searched one after the other rather than on a grid (a k×k grid costs k² fine-
 *       tunes for the precision k bisection steps give each dial). The accuracy budget is split: the pruning stage
 *       takes the most compressive prune point already measured whose top-1 is within {@value #PRUNE_SHARE} of the
 *       budget (baseline − ½·max-drop), reusing the prune search's points at no extra cost (its pruned, fine-tuned
 *       model is the starting point); then W is bisected on top of it as for {@code tucker}, against the full
 *       floor. Taking the strongest prune ratio within the <i>whole</i> budget would leave the decomposition no
 *       accuracy to spend. When no prune point is within half the budget, the combination decomposes the unpruned
 *       model (and says so).</li>
 * </ul>
 * The search calls a {@link CandidateEvaluator} for every point, so tests can drive it with a fake accuracy model.
 */
public final class MatchedAccuracySearch {
    /** Brackets narrower than this end a dial's search (ratio or W: a 1 % step). */
    public static final double RESOLUTION = 0.01;

    /** Share of the accuracy budget the pruning stage of prune+tucker may spend. */
    public static final double PRUNE_SHARE = 0.5;

    /** Tolerance for comparing top-1 with the floor (rounding of fractions like 893/1000). */
    private static final double EPS = 1e-12;

    /** Compresses the baseline with the given settings, fine-tunes, and measures the result. */
    @FunctionalInterface
    public interface CandidateEvaluator {
        Measurement evaluate(Variant variant, Settings settings);
    }

    /**
     * @param maxDropPoints how far top-1 may fall below the baseline, in percentage points (0.5 = half a point)
     * @param steps         the most points tried per variant (per dial for prune+tucker's W)
     * @param maxRatio      the prune dial's strongest ratio, in (0, 1)
     */
    public record Options(double maxDropPoints, int steps, double maxRatio) {
        public Options {
            if (!(maxDropPoints >= 0 && maxDropPoints <= 100)) {
                throw new NetslimException("--max-drop must be in [0, 100] points, got " + maxDropPoints);
            }
            if (steps < 1) throw new NetslimException("--search-steps must be ≥ 1, got " + steps);
            if (!(maxRatio > 0 && maxRatio < 1)) throw new NetslimException("--max-ratio must be in (0, 1), got " + maxRatio);
        }
    }

    /** Every point tried, in order, and per variant the chosen one (only points that reach the floor). */
    public record Result(double baselineTop1, double floor, List<SearchPoint> points, Map<Variant, SearchPoint> chosen,
                         Map<Variant, String> notes) {
        public Optional<SearchPoint> chosen(Variant v) {
            return Optional.ofNullable(chosen.get(v));
        }

        public List<SearchPoint> points(Variant v) {
            return points.stream().filter(p -> p.variant() == v).toList();
        }

        /** The chosen point, or when none reached the floor the most accurate one tried (empty if none tried). */
        public Optional<SearchPoint> bestEffort(Variant v) {
            return chosen(v).or(() -> points(v).stream().max(Comparator.comparingDouble(SearchPoint::top1)));
        }
    }

    /** One strength dial: the bracket (lo, hi], the first point, and the settings a strength means. */
    private record Dial(double lo, double hi, double first, DoubleFunction<Settings> settings) {
    }

    private final Options options;
    private final CandidateEvaluator evaluator;
    private final Consumer<SearchPoint> onPoint;
    private final Consumer<String> log;
    private final List<SearchPoint> points = new ArrayList<>();
    private final Map<Variant, String> notes = new EnumMap<>(Variant.class);
    private double floor;

    /** {@code onPoint} sees each point as soon as it is measured; {@code log} gets the search's decisions. */
    public MatchedAccuracySearch(Options options, CandidateEvaluator evaluator, Consumer<SearchPoint> onPoint,
                                 Consumer<String> log) {
        this.options = options;
        this.evaluator = evaluator;
        this.onPoint = onPoint == null ? p -> { } : onPoint;
        this.log = log == null ? s -> { } : log;
    }

    /** Searches each of {@code variants} (prune+tucker reuses prune's points; it searches prune first if needed). */
    public Result run(double baselineTop1, List<Variant> variants) {
        floor = baselineTop1 - options.maxDropPoints() / 100;
        for (Variant v : variants) {
            switch (v) {
                case PRUNE -> searchPrune();
                case TUCKER -> bisect(Variant.TUCKER, weakeningDial(0));
                case PRUNE_TUCKER -> searchCombined(baselineTop1);
            }
        }
        Map<Variant, SearchPoint> chosen = new EnumMap<>(Variant.class);
        for (Variant v : variants) {
            points.stream().filter(p -> p.variant() == v && p.accepted()).min(MOST_COMPRESSIVE)
                    .ifPresent(p -> chosen.put(v, p));
        }
        return new Result(baselineTop1, floor, List.copyOf(points), chosen, notes);
    }

    /** Fewest MACs, then fewest parameters, then highest top-1. */
    static final Comparator<SearchPoint> MOST_COMPRESSIVE = Comparator.comparingLong(SearchPoint::macs)
            .thenComparingLong(SearchPoint::params).thenComparing(Comparator.comparingDouble(SearchPoint::top1).reversed());

    private void searchPrune() {
        if (points.stream().anyMatch(p -> p.variant() == Variant.PRUNE)) return;
        double max = options.maxRatio();
        bisect(Variant.PRUNE, new Dial(0, max, round(max / 2), r -> Settings.prune(r)));
    }

    private void searchCombined(double baselineTop1) {
        searchPrune();
        double pruneFloor = baselineTop1 - PRUNE_SHARE * options.maxDropPoints() / 100;
        Optional<SearchPoint> base = points.stream()
                .filter(p -> p.variant() == Variant.PRUNE && p.top1() >= pruneFloor - EPS).min(MOST_COMPRESSIVE);
        double ratio = base.map(p -> p.settings().ratio()).orElse(0.0);
        String note = base.isPresent()
                ? String.format(Locale.ROOT, "prune ratio %s (the most compressive prune point within %.0f %% of the "
                        + "accuracy budget: top-1 %.2f %% ≥ %.2f %%), then the EVBMF weakening W searched on top",
                        Settings.number(ratio), 100 * PRUNE_SHARE, 100 * base.get().top1(), 100 * pruneFloor)
                : String.format(Locale.ROOT, "no prune point within %.0f %% of the accuracy budget (top-1 ≥ %.2f %%): "
                        + "the combination decomposes the unpruned model", 100 * PRUNE_SHARE, 100 * pruneFloor);
        notes.put(Variant.PRUNE_TUCKER, note);
        log.accept("prune+tucker: " + note);
        bisect(Variant.PRUNE_TUCKER, weakeningDial(ratio));
    }

    /** W of evbmf-weak:W in (0, 1], starting at plain EVBMF (W = 1), on top of pruning at {@code ratio}. */
    private static Dial weakeningDial(double ratio) {
        return new Dial(0, 1, 1, w -> new Settings(ratio, Settings.weakenedEvbmf(w)));
    }

    /** At most {@code steps} points: lo moves up on a point that reaches the floor, hi down on one that misses. */
    private void bisect(Variant v, Dial dial) {
        double lo = dial.lo(), hi = dial.hi(), x = dial.first();
        for (int step = 0; step < options.steps(); step++) {
            SearchPoint p = measure(v, dial.settings().apply(x));
            if (p.accepted()) lo = x;
            else hi = x;
            if (hi - lo < RESOLUTION) break;
            x = round((lo + hi) / 2);
        }
    }

    private SearchPoint measure(Variant v, Settings s) {
        Measurement m = evaluator.evaluate(v, s);
        SearchPoint p = new SearchPoint(points.size() + 1, v, s, m, m.top1() >= floor - EPS);
        points.add(p);
        onPoint.accept(p);
        return p;
    }

    /** Strengths are kept to 4 decimals, so settings print and parse back exactly. */
    private static double round(double x) {
        return Math.round(x * 1e4) / 1e4;
    }
}
