package netslim.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import netslim.tensor.Shape;

/** JSON output of the CLI's --json mode: one object on stdout. */
final class Json {
    private Json() {
    }

    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues().create();

    static JsonArray ints(int... v) {
        JsonArray a = new JsonArray();
        for (int x : v) a.add(x);
        return a;
    }

    static JsonElement shape(Shape s) {
        return ints(s.dims());
    }

    static String write(JsonObject o) {
        return GSON.toJson(o);
    }
}
