package netslim.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import org.junit.jupiter.api.Test;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.models.Zoo;
import netslim.prune.ChannelGroups.Group;
import netslim.tensor.Shape;

/** Which channels go: floor, never zero, round-to, per-layer vs global ranking, --layers, steps, history. */
class SelectionTest {

    /** Three plain conv groups "a" (10), "b" (10), "c" (20) feeding a Linear through a global pool. */
    static Graph chain() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(2, 6, 6));
        String x = b.relu("ra", b.conv("a", b.input(), 2, 10, 3, 1, 1, true));
        x = b.relu("rb", b.conv("b", x, 10, 10, 3, 1, 1, true));
        x = b.conv("c", x, 10, 20, 3, 1, 1, true);
        x = b.flatten("flat", b.globalAvgPool("gap", x));
        Graph g = b.build(b.linear("fc", x, 20, 3, true));
        PruneFixtures.randomizeAll(g, 1, 0.5f);
        return g;
    }

    /** Scores by group name; records the widths it was asked to score (one entry per ranking). */
    static final class StubImportance implements Importance {
        final Function<Group, double[]> scores;
        final List<Map<String, Integer>> calls = new ArrayList<>();

        StubImportance(Function<Group, double[]> scores) {
            this.scores = scores;
        }

        @Override
        public String name() {
            return "stub";
        }

        @Override
        public Map<Integer, double[]> scores(Graph graph, ChannelGroups groups) {
            Map<Integer, double[]> out = new LinkedHashMap<>();
            Map<String, Integer> widths = new LinkedHashMap<>();
            for (Group g : groups.prunable()) {
                out.put(g.id(), scores.apply(g));
                widths.put(g.name(), g.width());
            }
            calls.add(widths);
            return out;
        }
    }

    /** Score of channel k = k + 1 (so the lowest indices go first) in every group. */
    static double[] ascending(Group g) {
        double[] s = new double[g.width()];
        for (int k = 0; k < s.length; k++) s[k] = k + 1;
        return s;
    }

    static Map<String, Integer> widths(Graph g) {
        Map<String, Integer> w = new LinkedHashMap<>();
        for (Group grp : ChannelGroups.of(g).prunable()) w.put(grp.name(), grp.width());
        return w;
    }

    static FilterPruner.Result prune(Graph g, PruneOptions o, Importance imp) {
        return new FilterPruner(o, imp, FineTuner.NONE).prune(g);
    }

    @Test
    void globalRankingTakesTheLowestNormalisedScoresAcrossLayers() {
        // "a": uniform scores; "b": five near-zero channels; "c": uniform. Global 5 of 40 → exactly b's five.
        StubImportance imp = new StubImportance(g -> {
            double[] s = new double[g.width()];
            for (int k = 0; k < s.length; k++) s[k] = g.name().equals("b") && k % 2 == 1 ? 1e-3 : 1.0;
            return s;
        });
        Graph out = prune(chain(), PruneOptions.ratio(5.0 / 40), imp).graph();
        assertEquals(Map.of("a", 10, "b", 5, "c", 20), widths(out));
        // the removed ones are b's odd channels: conv c's in-channels left are b's even ones
        Graph g = chain();
        var cw = g.params().get("c.weight");
        var cw2 = out.params().get("c.weight");
        for (int i = 0; i < 5; i++) assertEquals(cw.get(2 * i * 9), cw2.get(i * 9), "c in-channel " + i);
    }

    @Test
    void perLayerRemovesTheSameFractionFromEveryGroup() {
        StubImportance imp = new StubImportance(g -> {
            double[] s = new double[g.width()];
            for (int k = 0; k < s.length; k++) s[k] = g.name().equals("b") && k % 2 == 1 ? 1e-3 : 1.0 + k;
            return s;
        });
        Graph out = prune(chain(), PruneOptions.ratio(0.2).withPerLayer(true), imp).graph();
        assertEquals(Map.of("a", 8, "b", 8, "c", 16), widths(out));
    }

    @Test
    void floorIsKeptAndNoGroupReachesZero() {
        StubImportance imp = new StubImportance(SelectionTest::ascending);
        Graph floor = prune(chain(), new PruneOptions(0.95, 1, false, 0.25, 1, "*"), imp).graph();
        assertEquals(Map.of("a", 3, "b", 3, "c", 5), widths(floor)); // ⌈0.25·10⌉ = 3, ⌈0.25·20⌉ = 5
        Graph none = prune(chain(), new PruneOptions(0.99, 1, false, 0.0, 1, "*"), imp).graph();
        assertEquals(Map.of("a", 1, "b", 1, "c", 1), widths(none));
        Graph perLayer = prune(chain(), new PruneOptions(0.99, 1, true, 0.0, 1, "*"), imp).graph();
        assertEquals(Map.of("a", 1, "b", 1, "c", 1), widths(perLayer));
    }

    @Test
    void roundToKeepsMultiplesOfEight() {
        Graph vgg = Zoo.create("vgg11-cifar", Zoo.Options.defaults());
        PruneFixtures.randomizeAll(vgg, 3, 0.5f);
        Graph out = prune(vgg, PruneOptions.ratio(0.3).withRoundTo(8), Importance.l1()).graph();
        int total = 0, kept = 0;
        Map<String, Integer> before = widths(vgg), after = widths(out);
        for (var e : after.entrySet()) {
            assertEquals(0, e.getValue() % 8, e.getKey() + " kept " + e.getValue());
            total += before.get(e.getKey());
            kept += e.getValue();
        }
        double removed = 1 - (double) kept / total;
        assertTrue(Math.abs(removed - 0.3) < 0.02, "removed fraction " + removed);
        assertTrue(kept < total);
    }

    @Test
    void roundKeptRule() {
        assertEquals(16, Selection.roundKept(13, 20, 2, 8));  // nearest multiple
        assertEquals(20, Selection.roundKept(19, 20, 2, 8));  // nearer to the full width: no pruning
        assertEquals(24, Selection.roundKept(20, 32, 2, 8));  // tie 16 / 24: the larger
        assertEquals(8, Selection.roundKept(2, 32, 2, 8));    // at least one block
        assertEquals(16, Selection.roundKept(9, 32, 10, 8));  // the floor rounds up
        assertEquals(5, Selection.roundKept(5, 6, 1, 8));     // no multiple below the width: unchanged
        assertEquals(13, Selection.roundKept(13, 20, 2, 1));  // off
    }

    @Test
    void layersGlobRestrictsWhichGroupsLoseChannels() {
        StubImportance imp = new StubImportance(SelectionTest::ascending);
        Graph out = prune(chain(), PruneOptions.ratio(0.5).withLayers("b,c"), imp).graph();
        Map<String, Integer> w = widths(out);
        assertEquals(10, w.get("a"));
        assertEquals(15, w.get("b") + w.get("c")); // half of the 30 eligible channels
        assertEquals(Map.of("a", 10, "b", 5, "c", 10),
                widths(prune(chain(), PruneOptions.ratio(0.5).withPerLayer(true).withLayers("b,c*"), imp).graph()));
        assertThrows(NetslimException.class, () -> PruneOptions.ratio(0.5).withLayers("a,,b"));
        NetslimException e = assertThrows(NetslimException.class,
                () -> prune(chain(), PruneOptions.ratio(0.5).withLayers("fc,nothing*"), imp));
        assertTrue(e.getMessage().contains("no prunable channel group has a conv matching --layers 'fc,nothing*'"),
                e.getMessage());
    }

    @Test
    void stepsSplitTheRatioAndRerankEachRound() {
        StubImportance imp = new StubImportance(SelectionTest::ascending);
        List<String> tuned = new ArrayList<>();
        FineTuner recorder = (g, round, rounds) -> {
            tuned.add(round + "/" + rounds + ":" + widths(g));
            return g;
        };
        FilterPruner.Result r = new FilterPruner(PruneOptions.ratio(0.3).withSteps(3).withPerLayer(true), imp, recorder)
                .prune(chain());
        assertEquals(List.of("1/3:{a=9, b=9, c=18}", "2/3:{a=8, b=8, c=16}", "3/3:{a=7, b=7, c=14}"), tuned);
        assertEquals(3, imp.calls.size());
        assertEquals(Map.of("a", 10, "b", 10, "c", 20), imp.calls.get(0));
        assertEquals(Map.of("a", 9, "b", 9, "c", 18), imp.calls.get(1));   // 10 % per round
        assertEquals(Map.of("a", 8, "b", 8, "c", 16), imp.calls.get(2));
        assertEquals(Map.of("a", 7, "b", 7, "c", 14), widths(r.graph()));
        assertEquals(List.of(4, 4, 4), r.rounds().stream().map(PruneRound::removed).toList());

        JsonArray runs = PruneHistory.read(r.graph());
        assertEquals(1, runs.size());
        JsonObject run = runs.get(0).getAsJsonObject();
        assertEquals("stub", run.get("criterion").getAsString());
        assertEquals(0.3, run.get("ratio").getAsDouble());
        JsonArray rounds = run.getAsJsonArray("rounds");
        assertEquals(3, rounds.size());
        JsonObject last = rounds.get(2).getAsJsonObject().getAsJsonArray("layers").get(2).getAsJsonObject();
        assertEquals("c", last.get("layer").getAsString());
        assertEquals(14, last.get("kept").getAsInt());
        assertEquals(20, last.get("original").getAsInt());
        // pruning again appends a second run
        Graph twice = prune(r.graph(), PruneOptions.ratio(0.1), imp).graph();
        assertEquals(2, PruneHistory.read(twice).size());
    }

    @Test
    void globalStepsReachTheTotalRatio() {
        StubImportance imp = new StubImportance(SelectionTest::ascending);
        FilterPruner.Result r = prune(chain(), PruneOptions.ratio(0.5).withSteps(2), imp);
        assertEquals(List.of(10, 10), r.rounds().stream().map(PruneRound::removed).toList());
        int kept = widths(r.graph()).values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(20, kept);
    }

    @Test
    void selectionIsLowestScoresWithinAGroup() {
        assertArrayEquals(new int[] {1, 3}, Selection.lowest(new double[] {5, 1, 4, 0.5, 9}, 2));
        assertArrayEquals(new int[] {0, 1}, Selection.lowest(new double[] {1, 1, 1}, 2));
        assertArrayEquals(new double[] {0.6, 0.8}, Selection.normalised(new double[] {3, 4}), 1e-12);
        assertArrayEquals(new double[] {0, 0}, Selection.normalised(new double[] {0, 0}));
    }
}
