package netslim.decompose;

import java.util.List;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import netslim.NetslimException;
import netslim.nn.Graph;

/**
 * The record of decomposed layers kept in {@code Graph.metadata()} under {@value #KEY}: a JSON array with one object
 * per replaced conv, in the order they were decomposed (a model decomposed twice keeps both runs' records):
 * <pre>
 * {"layer": "layer1.0.conv1", "method": "tucker2" | "lowrank",
 *  "nodes": ["layer1.0.conv1.tucker_in", "layer1.0.conv1.tucker_core", "layer1.0.conv1"],
 *  "ranks": [R3, R4], "estimated_ranks": [policy's value before floor/rounding, ...], "floor_hit": false,
 *  "shape": [T, S, kh, kw], "rel_error": 0.12, "hosvd_rel_error": 0.13, "hooi_sweeps": 3,
 *  "macs_before": ..., "macs_after": ..., "params_before": ..., "params_after": ..., "policy": "evbmf"}
 * </pre>
 */
public final class TuckerMetadata {
    public static final String KEY = "tucker";
    private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();

    private TuckerMetadata() {
    }

    /** The records of a graph (empty if it was never decomposed). */
    public static JsonArray records(Graph g) {
        return parse(g.metadata().get(KEY));
    }

    /** The existing value (may be null) with one record per replaced layer appended, as a JSON string. */
    static String merge(String existing, List<LayerReport> replaced, RankPolicy policy) {
        JsonArray all = parse(existing);
        for (LayerReport r : replaced) all.add(record(r, policy));
        return COMPACT.toJson(all);
    }

    private static JsonArray parse(String value) {
        JsonArray all = new JsonArray();
        if (value == null) return all;
        try {
            JsonElement e = JsonParser.parseString(value);
            if (e.isJsonArray()) all.addAll(e.getAsJsonArray());
            else all.add(e); // an older single-object record: keep it, never lose history
        } catch (JsonParseException ex) {
            throw new NetslimException("graph metadata '" + KEY + "' is not valid JSON: " + ex.getMessage(), ex);
        }
        return all;
    }

    static JsonObject record(LayerReport r, RankPolicy policy) {
        JsonObject o = new JsonObject();
        o.addProperty("layer", r.name());
        o.addProperty("method", r.status().label());
        JsonArray nodes = new JsonArray();
        if (r.status() == LayerReport.Status.TUCKER2) {
            nodes.add(r.name() + ".tucker_in");
            nodes.add(r.name() + ".tucker_core");
        } else {
            nodes.add(r.name() + ".lowrank_in");
        }
        nodes.add(r.name());
        o.add("nodes", nodes);
        o.add("ranks", ints(r.r3(), r.r4()));
        o.add("estimated_ranks", ints(estimate(r.inChoice(), r.r3()), estimate(r.outChoice(), r.r4())));
        o.addProperty("floor_hit", r.floorHit());
        o.add("shape", ints(r.weightShape().dims()));
        o.addProperty("rel_error", r.relError());
        o.addProperty("hosvd_rel_error", r.hosvdRelError());
        o.addProperty("hooi_sweeps", r.hooiSweeps());
        o.addProperty("macs_before", r.macsBefore());
        o.addProperty("macs_after", r.macsAfter());
        o.addProperty("params_before", r.paramsBefore());
        o.addProperty("params_after", r.paramsAfter());
        o.addProperty("policy", policy.toString());
        return o;
    }

    private static int estimate(RankPolicy.Choice c, int fallback) {
        return c == null ? fallback : c.estimate();
    }

    private static JsonArray ints(int... v) {
        JsonArray a = new JsonArray();
        for (int x : v) a.add(x);
        return a;
    }
}
