package netslim.report;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

/** report.json: the run, one entry per variant with its ratios against the baseline, every search point. */
final class ReportJson {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private ReportJson() {
    }

    static JsonObject toJson(CompressionReport r) {
        CompressionReport.Run run = r.run();
        JsonObject o = new JsonObject();
        o.addProperty("model", run.model());
        o.addProperty("data", run.data());
        o.addProperty("pipeline", run.pipeline());
        o.addProperty("device", run.device());
        o.addProperty("eval_images", run.evalImages());
        o.addProperty("finetune_images", run.fineTuneImages());
        o.addProperty("finetune", run.fineTune());
        o.addProperty("criterion", run.criterion());
        o.addProperty("max_drop_points", run.maxDropPoints());
        number(o, "floor_top1", run.floor());
        o.addProperty("search_steps", run.searchSteps());
        o.addProperty("seconds", run.seconds());
        o.addProperty("mac_convention", ModelStats.MAC_CONVENTION);
        JsonArray notes = new JsonArray();
        run.notes().forEach(notes::add);
        o.add("notes", notes);
        JsonArray variants = new JsonArray();
        for (CompressionReport.Entry e : r.entries()) variants.add(entry(e, r.baseline()));
        o.add("variants", variants);
        JsonArray points = new JsonArray();
        for (CompressionReport.Point p : r.points()) points.add(point(p));
        o.add("points", points);
        return o;
    }

    private static JsonObject entry(CompressionReport.Entry e, CompressionReport.Entry base) {
        JsonObject j = new JsonObject();
        j.addProperty("name", e.name());
        j.add("settings", settings(e.ratio(), e.rank(), e.settings()));
        number(j, "top1", e.top1());
        number(j, "top5", e.top5());
        j.addProperty("params", e.params());
        j.addProperty("macs", e.macs());
        JsonObject latency = new JsonObject();
        if (e.latency() != null) {
            JsonObject dev = new JsonObject();
            number(dev, "b1", e.latency().b1Ms());
            number(dev, "b32", e.latency().b32Ms());
            latency.add(e.latency().device(), dev);
        }
        j.add("latency_ms", latency);
        j.add("ratios", ratios(e, base));
        if (e.withinBudget() != null) j.addProperty("within_budget", e.withinBudget());
        j.addProperty("file", e.file());
        JsonArray layers = new JsonArray();
        for (CompressionReport.LayerRow l : e.layers()) {
            JsonObject lj = new JsonObject();
            lj.addProperty("name", l.layer());
            lj.addProperty("baseline_filters", l.baselineFilters());
            lj.addProperty("kept_filters", l.keptFilters());
            if (l.r3() > 0) {
                JsonArray rk = new JsonArray();
                rk.add(l.r3());
                rk.add(l.r4());
                lj.add("ranks", rk);
            } else {
                lj.add("ranks", JsonNull.INSTANCE);
            }
            layers.add(lj);
        }
        j.add("layers", layers);
        return j;
    }

    /** Ratios against the baseline: see {@link CompressionReport}. */
    static JsonObject ratios(CompressionReport.Entry e, CompressionReport.Entry base) {
        JsonObject r = new JsonObject();
        double macsRatio = CompressionReport.ratio(base.macs(), e.macs());
        number(r, "params_ratio", CompressionReport.ratio(base.params(), e.params()));
        number(r, "macs_ratio", macsRatio);
        double s1 = speedup(base, e, true), s32 = speedup(base, e, false);
        number(r, "speedup_b1", s1);
        number(r, "speedup_b32", s32);
        JsonObject over = new JsonObject();
        number(over, "b1", s1 / macsRatio);
        number(over, "b32", s32 / macsRatio);
        r.add("speedup_over_mac_reduction", over);
        return r;
    }

    /** Baseline latency / variant latency at batch 1 or 32 (NaN without both). */
    static double speedup(CompressionReport.Entry base, CompressionReport.Entry e, boolean b1) {
        if (base.latency() == null || e.latency() == null) return Double.NaN;
        return b1 ? CompressionReport.ratio(base.latency().b1Ms(), e.latency().b1Ms())
                : CompressionReport.ratio(base.latency().b32Ms(), e.latency().b32Ms());
    }

    private static JsonObject point(CompressionReport.Point p) {
        JsonObject j = new JsonObject();
        j.addProperty("index", p.index());
        j.addProperty("variant", p.variant());
        j.add("settings", settings(p.ratio(), p.rank(), null));
        number(j, "top1", p.top1());
        number(j, "top5", p.top5());
        j.addProperty("params", p.params());
        j.addProperty("macs", p.macs());
        j.addProperty("accepted", p.accepted());
        j.addProperty("chosen", p.chosen());
        return j;
    }

    private static JsonObject settings(double ratio, String rank, String description) {
        JsonObject s = new JsonObject();
        s.addProperty("prune_ratio", ratio);
        s.addProperty("rank", rank);
        if (description != null) s.addProperty("description", description);
        return s;
    }

    /** A number, or null for NaN / infinity (strict JSON has neither). */
    static void number(JsonObject o, String key, double v) {
        if (Double.isFinite(v)) o.addProperty(key, v);
        else o.add(key, JsonNull.INSTANCE);
    }
}
