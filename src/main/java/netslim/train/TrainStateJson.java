package netslim.train;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import netslim.NetslimException;
import netslim.data.Augmentation;

/**
 * {@code train_state.json}: {@link TrainState} as JSON. Doubles are written in Java's shortest round-trip form and
 * longs as integers, so a state reads back exactly; NaN figures are written as null.
 */
final class TrainStateJson {
    static final String FORMAT = "netslim-train-state";
    static final int VERSION = 1;
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private TrainStateJson() {
    }

    static byte[] encode(TrainState s) {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("version", VERSION);
        o.addProperty("epoch", s.epoch());
        o.addProperty("step_in_epoch", s.stepInEpoch());
        o.addProperty("global_step", s.globalStep());
        o.addProperty("lr", s.lr());
        o.addProperty("complete", s.complete());
        JsonObject rng = new JsonObject();
        rng.addProperty("loader_seed", s.loaderSeed());
        rng.addProperty("loader_epoch", s.epoch());
        rng.addProperty("executor", s.executorRng());
        o.add("rng", rng);
        o.add("progress", progress(s.progress()));
        o.add("config", config(s.config()));
        JsonArray h = new JsonArray();
        for (EpochMetrics m : s.history()) h.add(metrics(m));
        o.add("history", h);
        JsonObject run = new JsonObject();
        new TreeMap<>(s.run()).forEach(run::addProperty);
        o.add("run", run);
        return GSON.toJson(o).getBytes(StandardCharsets.UTF_8);
    }

    static TrainState decode(byte[] bytes, String where) {
        try {
            JsonObject o = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8)).getAsJsonObject();
            if (!FORMAT.equals(string(o, "format")) || o.get("version").getAsInt() != VERSION) {
                throw new NetslimException(where + ": train_state.json is not format " + FORMAT + " version " + VERSION);
            }
            List<EpochMetrics> history = new ArrayList<>();
            for (JsonElement e : o.getAsJsonArray("history")) history.add(metrics(e.getAsJsonObject()));
            Map<String, String> run = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("run").entrySet()) {
                run.put(e.getKey(), e.getValue().getAsString());
            }
            return new TrainState(config(o.getAsJsonObject("config")), o.get("epoch").getAsInt(),
                    o.get("step_in_epoch").getAsInt(), o.get("global_step").getAsLong(), o.get("lr").getAsDouble(),
                    o.getAsJsonObject("rng").get("executor").getAsLong(), progress(o.getAsJsonObject("progress")),
                    history, run);
        } catch (NetslimException e) {
            // a setting's own parser (schedule, augmentation) speaks of the CLI option and quotes the raw value
            String m = printable(e.getMessage());
            throw new NetslimException(m.startsWith(where) ? m : where + ": train_state.json: " + m, e);
        } catch (RuntimeException e) {
            throw new NetslimException(where + ": train_state.json is malformed (" + describe(e) + ")", e);
        }
    }

    /** Control characters (line breaks from a corrupt file's strings) shown as '?': messages stay one line. */
    private static String printable(String s) {
        return s == null ? "(no message)" : s.replaceAll("\\p{Cntrl}", "?");
    }

    /**
     * One line for users: Gson's syntax messages span two lines (the second a link) and name its exception class
     * (found by fuzzing; seeds TrainStateFuzzTestInputs/trainState/bug-*.json), and a missing field surfaces as a
     * NullPointerException whose message describes Java code, not the file.
     */
    private static String describe(RuntimeException e) {
        Throwable t = e instanceof JsonParseException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof NullPointerException) return "a required field is missing";
        if (t instanceof ClassCastException || t.getMessage() == null || t.getMessage().isBlank()) {
            return "a field has the wrong type";
        }
        return printable(t.getMessage().lines().findFirst().orElse("").trim());
    }

    private static JsonObject config(TrainConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("epochs", c.epochs());
        o.addProperty("batch", c.batchSize());
        o.addProperty("lr", c.lr());
        o.addProperty("momentum", c.momentum());
        o.addProperty("nesterov", c.nesterov());
        o.addProperty("weight_decay", c.weightDecay());
        o.addProperty("decay_norm_and_bias", c.decayNormAndBias());
        o.addProperty("schedule", c.schedule().toString());
        o.addProperty("warmup_epochs", c.warmupEpochs());
        JsonArray ms = new JsonArray();
        c.milestones().forEach(ms::add);
        o.add("milestones", ms);
        o.addProperty("gamma", c.gamma());
        o.addProperty("label_smoothing", c.labelSmoothing());
        o.addProperty("seed", c.seed());
        o.add("augmentation", c.augmentation() == null ? JsonNull.INSTANCE : new JsonPrimitive(c.augmentation().toString()));
        return o;
    }

    private static TrainConfig config(JsonObject o) {
        List<Integer> ms = new ArrayList<>();
        for (JsonElement e : o.getAsJsonArray("milestones")) ms.add(e.getAsInt());
        JsonElement aug = o.get("augmentation");
        Augmentation a = aug == null || aug.isJsonNull() ? null : Augmentation.parse(aug.getAsString(), 1, 1);
        return new TrainConfig(o.get("epochs").getAsInt(), o.get("batch").getAsInt(), o.get("lr").getAsDouble(),
                o.get("momentum").getAsDouble(), o.get("nesterov").getAsBoolean(), o.get("weight_decay").getAsDouble(),
                o.get("decay_norm_and_bias").getAsBoolean(), LrSchedule.Kind.parse(string(o, "schedule")),
                o.get("warmup_epochs").getAsDouble(), ms, o.get("gamma").getAsDouble(),
                o.get("label_smoothing").getAsDouble(), o.get("seed").getAsLong(), a);
    }

    private static JsonObject progress(EpochProgress p) {
        JsonObject o = new JsonObject();
        o.addProperty("steps", p.steps());
        o.addProperty("seen", p.seen());
        o.addProperty("correct", p.correct());
        o.addProperty("loss_sum", p.lossSum());
        o.addProperty("seconds", p.seconds());
        return o;
    }

    private static EpochProgress progress(JsonObject o) {
        return new EpochProgress(o.get("steps").getAsInt(), o.get("seen").getAsLong(), o.get("correct").getAsLong(),
                o.get("loss_sum").getAsDouble(), o.get("seconds").getAsDouble());
    }

    private static JsonObject metrics(EpochMetrics m) {
        JsonObject o = new JsonObject();
        o.addProperty("epoch", m.epoch());
        number(o, "train_loss", m.trainLoss());
        number(o, "train_accuracy", m.trainAccuracy());
        number(o, "test_top1", m.testTop1());
        number(o, "test_top5", m.testTop5());
        number(o, "test_loss", m.testLoss());
        number(o, "lr", m.lr());
        number(o, "seconds", m.seconds());
        number(o, "images_per_s", m.imagesPerS());
        return o;
    }

    private static EpochMetrics metrics(JsonObject o) {
        return new EpochMetrics(o.get("epoch").getAsInt(), number(o, "train_loss"), number(o, "train_accuracy"),
                number(o, "test_top1"), number(o, "test_top5"), number(o, "test_loss"), number(o, "lr"),
                number(o, "seconds"), number(o, "images_per_s"));
    }

    /** Writes a double, or null for NaN / infinity (JSON has no such numbers). */
    static void number(JsonObject o, String key, double v) {
        o.add(key, Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE);
    }

    private static double number(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? null : e.getAsString();
    }
}
