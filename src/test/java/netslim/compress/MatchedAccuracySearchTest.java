package netslim.compress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import netslim.tensor.Rng;

/**
 * The matched-accuracy search against a fake, deterministic accuracy model (no training): accuracy falls with the
 * strength of each stage, MACs shrink with it.
 */
class MatchedAccuracySearchTest {
    static final double BASE_TOP1 = 0.90;
    static final long BASE_MACS = 1_000_000, BASE_PARAMS = 100_000;

    /**
     * Pruning at ratio r costs 4·r² points and keeps (1 − r)² of the MACs; Tucker at W costs {@code tuckerCost}·W²
     * points and keeps 1 − 0.6·W of them; both add up. {@code noise} (points) adds a seeded, strength-keyed wobble.
     */
    record FakeModel(double tuckerCost, double noise, List<String> calls) implements MatchedAccuracySearch.CandidateEvaluator {
        FakeModel(double tuckerCost, double noise) {
            this(tuckerCost, noise, new ArrayList<>());
        }

        @Override
        public Measurement evaluate(Variant v, Settings s) {
            calls.add(v.label() + " " + s.describe());
            double w = s.decomposes() ? Double.parseDouble(s.rank().substring("evbmf-weak:".length())) : 0;
            double drop = 4 * s.ratio() * s.ratio() + tuckerCost * w * w;
            if (noise > 0) drop += noise * (new Rng(Double.hashCode(s.ratio() * 31 + w)).nextFloat() - 0.5);
            double keep = (1 - s.ratio()) * (1 - s.ratio()) * (1 - 0.6 * w);
            return new Measurement(BASE_TOP1 - drop / 100, 0.99, Math.round(BASE_PARAMS * keep),
                    Math.round(BASE_MACS * keep));
        }
    }

    static MatchedAccuracySearch.Result search(FakeModel model, double maxDrop, int steps, List<Variant> variants) {
        return new MatchedAccuracySearch(new MatchedAccuracySearch.Options(maxDrop, steps, 0.8), model, null, null)
                .run(BASE_TOP1, variants);
    }

    @Test
    void pruneBisectionFindsTheStrongestRatioWithinBudget() {
        // drop 4·r² ≤ 1 point ⇔ r ≤ 0.5: bisection on (0, 0.8] tries 0.4 (ok), 0.6 (no), 0.5 (ok, exactly at the floor).
        MatchedAccuracySearch.Result r = search(new FakeModel(1, 0), 1.0, 3, List.of(Variant.PRUNE));
        assertEquals(List.of(0.4, 0.6, 0.5), r.points().stream().map(p -> p.settings().ratio()).toList());
        assertEquals(List.of(true, false, true), r.points().stream().map(SearchPoint::accepted).toList());
        assertEquals(0.5, r.chosen(Variant.PRUNE).orElseThrow().settings().ratio(), 1e-12);
        assertEquals(BASE_TOP1 - 0.01, r.floor(), 1e-12);
    }

    @Test
    void tuckerStartsAtEvbmfAndStopsWhenItQualifies() {
        MatchedAccuracySearch.Result r = search(new FakeModel(0.2, 0), 0.5, 4, List.of(Variant.TUCKER));
        assertEquals(1, r.points().size(), "W = 1 within budget: nothing stronger to try");
        assertEquals("evbmf-weak:1", r.chosen(Variant.TUCKER).orElseThrow().settings().rank());
    }

    @Test
    void combinationPrunesWithinHalfTheBudgetThenSearchesW() {
        // Budget 2 points: prune tries 0.4 (0.64 points), 0.6, 0.7 (1.96, chosen), 0.75 (2.25, out); within half the
        // budget (1 point) the strongest tried is 0.4.
        FakeModel model = new FakeModel(2, 0);
        MatchedAccuracySearch.Result r = search(model, 2.0, 4, List.of(Variant.PRUNE, Variant.TUCKER,
                Variant.PRUNE_TUCKER));
        List<SearchPoint> combined = r.points(Variant.PRUNE_TUCKER);
        assertFalse(combined.isEmpty());
        for (SearchPoint p : combined) assertEquals(0.4, p.settings().ratio(), 1e-12, p.toString());
        SearchPoint best = r.chosen(Variant.PRUNE_TUCKER).orElseThrow();
        // 0.64 points of pruning + 2·W² ≤ 2 ⇔ W ≤ 0.82: the bisection tries 1, 0.5, 0.75, 0.875 and picks 0.75.
        assertEquals(List.of("evbmf-weak:1", "evbmf-weak:0.5", "evbmf-weak:0.75", "evbmf-weak:0.875"),
                combined.stream().map(p -> p.settings().rank()).toList());
        assertEquals("evbmf-weak:0.75", best.settings().rank());
        assertEquals(0.7, r.chosen(Variant.PRUNE).orElseThrow().settings().ratio(), 1e-12);
        assertEquals(Math.round(BASE_MACS * 0.36 * 0.55), best.macs(), "(1 - 0.4)² of the MACs, then 1 - 0.6·0.75");
        assertTrue(r.notes().get(Variant.PRUNE_TUCKER).contains("ratio 0.4"), r.notes().toString());
        assertEquals(model.calls().size(), r.points().size(), "every evaluation is recorded");
    }

    @Test
    void combinationWithoutPruneVariantSearchesPruneFirst() {
        MatchedAccuracySearch.Result r = search(new FakeModel(1, 0), 1.0, 2, List.of(Variant.PRUNE_TUCKER));
        assertEquals(2, r.points(Variant.PRUNE).size());
        assertTrue(r.chosen(Variant.PRUNE).isEmpty(), "prune was not asked for, so nothing is chosen for it");
        assertTrue(r.chosen(Variant.PRUNE_TUCKER).isPresent());
    }

    @ParameterizedTest(name = "max-drop {0} points, {1} steps, noise {2}")
    @CsvSource({"0.5, 4, 0", "0.5, 4, 1.5", "1.0, 2, 0", "2.0, 6, 3", "0.0, 3, 0", "5.0, 1, 0.5"})
    void chosenPointsAreTheMostCompressiveWithinBudgetAndStepsAreBounded(double maxDrop, int steps, double noise) {
        MatchedAccuracySearch.Result r = search(new FakeModel(1.5, noise), maxDrop, steps,
                List.of(Variant.PRUNE, Variant.TUCKER, Variant.PRUNE_TUCKER));
        double floor = BASE_TOP1 - maxDrop / 100;
        for (Variant v : Variant.values()) {
            List<SearchPoint> ps = r.points(v);
            assertTrue(ps.size() >= 1 && ps.size() <= steps, v + ": " + ps.size() + " points for " + steps + " steps");
            for (SearchPoint p : ps) assertEquals(p.top1() >= floor - 1e-12, p.accepted(), p.toString());
            List<SearchPoint> ok = ps.stream().filter(SearchPoint::accepted).toList();
            if (ok.isEmpty()) {
                assertTrue(r.chosen(v).isEmpty(), v + ": nothing qualifies, nothing chosen");
                continue;
            }
            SearchPoint chosen = r.chosen(v).orElseThrow();
            assertTrue(chosen.top1() >= floor - 1e-12, "never below the floor: " + chosen);
            long fewest = ok.stream().mapToLong(SearchPoint::macs).min().orElseThrow();
            assertEquals(fewest, chosen.macs(), v + ": the fewest-MACs qualifying point");
        }
        for (int i = 0; i < r.points().size(); i++) assertEquals(i + 1, r.points().get(i).index());
    }

    @Test
    void nothingWithinBudgetChoosesNothingButKeepsTheBestEffort() {
        // Every candidate costs ≥ 3 points (a fixed penalty) against a 0.5 point budget.
        MatchedAccuracySearch.CandidateEvaluator awful = (v, s) -> new Measurement(BASE_TOP1 - 0.03 - s.ratio() / 10,
                0.9, 10, 10 + Math.round(100 * (1 - s.ratio())));
        MatchedAccuracySearch.Result r = new MatchedAccuracySearch(new MatchedAccuracySearch.Options(0.5, 3, 0.8),
                awful, null, null).run(BASE_TOP1, List.of(Variant.PRUNE));
        assertTrue(r.chosen(Variant.PRUNE).isEmpty());
        assertTrue(r.points().stream().noneMatch(SearchPoint::accepted));
        SearchPoint best = r.bestEffort(Variant.PRUNE).orElseThrow();
        assertEquals(r.points().stream().max(Comparator.comparingDouble(SearchPoint::top1)).orElseThrow(), best);
        // Each miss halves the bracket towards 0: 0.4, 0.2, 0.1.
        assertEquals(List.of(0.4, 0.2, 0.1), r.points().stream().map(p -> p.settings().ratio()).toList());
    }

    @Test
    void pointsAreReportedAsTheyAreMeasured() {
        List<Integer> seen = new ArrayList<>();
        new MatchedAccuracySearch(new MatchedAccuracySearch.Options(0.5, 2, 0.8), new FakeModel(1, 0),
                p -> seen.add(p.index()), null).run(BASE_TOP1, List.of(Variant.PRUNE, Variant.TUCKER));
        assertEquals(List.of(1, 2, 3, 4), seen);
    }
}
