package netslim.prune;

import java.util.List;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import netslim.nn.Graph;

/**
 * The pruning history kept in {@code Graph.metadata()} under {@value #KEY}: a JSON array with one object per
 * pruning run (a model pruned twice has two), each with the criterion and options and, per round, the channels
 * removed, the kept fraction and every group's kept / original width.
 */
public final class PruneHistory {
    public static final String KEY = "pruning";
    private static final Gson GSON = new Gson();

    private PruneHistory() {
    }

    /** Appends one run to the graph's history. */
    static void append(Graph g, String criterion, PruneOptions o, List<PruneRound> rounds) {
        JsonArray runs = read(g);
        JsonObject run = new JsonObject();
        run.addProperty("criterion", criterion);
        run.addProperty("ratio", o.ratio());
        run.addProperty("steps", o.steps());
        run.addProperty("per_layer", o.perLayer());
        run.addProperty("floor", o.floor());
        run.addProperty("round_to", o.roundTo());
        run.addProperty("layers", o.layers());
        JsonArray rs = new JsonArray();
        for (PruneRound r : rounds) {
            JsonObject jr = new JsonObject();
            jr.addProperty("round", r.round());
            jr.addProperty("removed", r.removed());
            jr.addProperty("kept_fraction", r.keptFraction());
            JsonArray layers = new JsonArray();
            for (PruneRound.GroupWidth w : r.groups()) {
                JsonObject jl = new JsonObject();
                jl.addProperty("layer", w.group());
                if (w.producers().size() > 1) jl.add("producers", GSON.toJsonTree(w.producers()));
                jl.addProperty("kept", w.kept());
                jl.addProperty("original", w.original());
                layers.add(jl);
            }
            jr.add("layers", layers);
            rs.add(jr);
        }
        run.add("rounds", rs);
        runs.add(run);
        g.metadata().put(KEY, GSON.toJson(runs));
    }

    /** The runs recorded in {@code g} (empty when it was never pruned). */
    public static JsonArray read(Graph g) {
        String s = g.metadata().get(KEY);
        if (s == null) return new JsonArray();
        JsonElement e = JsonParser.parseString(s);
        if (e.isJsonArray()) return e.getAsJsonArray();
        JsonArray a = new JsonArray(); // tolerate a single object written by hand
        a.add(e);
        return a;
    }
}
