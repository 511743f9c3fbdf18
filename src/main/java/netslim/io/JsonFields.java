package netslim.io;

import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Set;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import netslim.NetslimException;

/**
 * Typed, strict access to the fields of one JSON object of graph.json. Every failure is a {@link NetslimException}
 * whose message starts with {@code where} (e.g. "node conv1 (Conv2d)"); {@link #finish} rejects fields nobody read,
 * so a typo or a newer file's attribute is reported instead of silently ignored.
 */
final class JsonFields {
    private final JsonObject obj;
    private final String where;
    private final Set<String> read = new HashSet<>();

    JsonFields(JsonElement e, String where) {
        if (e == null || !e.isJsonObject()) throw new NetslimException(where + ": expected a JSON object");
        this.obj = e.getAsJsonObject();
        this.where = where;
    }

    String where() {
        return where;
    }

    NetslimException error(String field, String problem) {
        return new NetslimException(where + ": " + field + " " + problem);
    }

    JsonElement get(String field) {
        read.add(field);
        JsonElement e = obj.get(field);
        if (e == null || e.isJsonNull()) throw error(field, "is missing");
        return e;
    }

    boolean has(String field) {
        return obj.has(field) && !obj.get(field).isJsonNull();
    }

    String string(String field) {
        JsonElement e = get(field);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) throw error(field, "must be a string");
        return e.getAsString();
    }

    boolean bool(String field) {
        JsonElement e = get(field);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) throw error(field, "must be true or false");
        return e.getAsBoolean();
    }

    int integer(String field) {
        return toInt(get(field), field);
    }

    /** A float; non-finite values are written as the strings "Infinity", "-Infinity", "NaN" (see {@link #num}). */
    float real(String field) {
        JsonElement e = get(field);
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) return e.getAsFloat();
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            switch (e.getAsString()) {
                case "Infinity": return Float.POSITIVE_INFINITY;
                case "-Infinity": return Float.NEGATIVE_INFINITY;
                case "NaN": return Float.NaN;
                default: break;
            }
        }
        throw error(field, "must be a number");
    }

    /** An array of exactly {@code n} integers. */
    int[] ints(String field, int n) {
        JsonArray a = array(field);
        if (n >= 0 && a.size() != n) throw error(field, "must have " + n + " entries, got " + a.size());
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = toInt(a.get(i), field);
        return v;
    }

    JsonArray array(String field) {
        JsonElement e = get(field);
        if (!e.isJsonArray()) throw error(field, "must be an array");
        return e.getAsJsonArray();
    }

    JsonFields object(String field, String innerWhere) {
        JsonElement e = get(field);
        if (!e.isJsonObject()) throw error(field, "must be an object");
        return new JsonFields(e, innerWhere);
    }

    JsonObject raw() {
        return obj;
    }

    /** Fails on a field that was never read. */
    void finish() {
        for (String k : obj.keySet()) {
            if (!read.contains(k)) throw new NetslimException(where + ": unknown field " + k);
        }
    }

    private int toInt(JsonElement e, String field) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            try {
                return new BigDecimal(e.getAsString()).intValueExact();
            } catch (ArithmeticException | NumberFormatException ex) {
                // fall through to the error below
            }
        }
        throw error(field, "must be an integer, got " + e);
    }

    /** A float as JSON: a number written the way Float.toString does (exact round trip), or a string if non-finite. */
    static JsonPrimitive num(float f) {
        if (Float.isNaN(f)) return new JsonPrimitive("NaN");
        if (Float.isInfinite(f)) return new JsonPrimitive(f > 0 ? "Infinity" : "-Infinity");
        return new JsonPrimitive(f); // Gson writes a Float with Float.toString: shortest exact form
    }

    static JsonArray intArray(int... values) {
        JsonArray a = new JsonArray();
        for (int v : values) a.add(v);
        return a;
    }
}
