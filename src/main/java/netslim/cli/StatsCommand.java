package netslim.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import netslim.nn.Graph;
import netslim.report.ModelStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code stats}: parameters, MACs and the per-layer table. */
@Command(name = "stats", description = "Parameters, MACs and a per-layer table of a model.")
final class StatsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input shape for zoo models (default: the model's).")
    String input;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Graph g = model.load(ModelOptions.parseInputShape(input));
        ModelStats s = ModelStats.of(model.displayName(), g);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(toJson(s)));
        } else {
            printTable(s, out);
        }
        return 0;
    }

    static JsonObject toJson(ModelStats s) {
        JsonObject o = new JsonObject();
        o.addProperty("model", s.model());
        o.add("input", Json.shape(s.input()));
        o.addProperty("params", s.params());
        o.addProperty("macs", s.macs());
        o.addProperty("mac_convention", ModelStats.MAC_CONVENTION);
        JsonArray layers = new JsonArray();
        for (ModelStats.LayerStats l : s.layers()) {
            JsonObject j = new JsonObject();
            j.addProperty("name", l.name());
            j.addProperty("kind", l.kind());
            j.addProperty("in_channels", l.inChannels());
            j.addProperty("out_channels", l.outChannels());
            j.add("kernel", l.kernel() == null ? null : Json.ints(l.kernel()));
            j.add("stride", l.stride() == null ? null : Json.ints(l.stride()));
            j.addProperty("groups", l.groups());
            j.add("output_shape", Json.shape(l.outputShape()));
            j.addProperty("params", l.params());
            j.addProperty("macs", l.macs());
            layers.add(j);
        }
        o.add("layers", layers);
        return o;
    }

    private static void printTable(ModelStats s, PrintWriter out) {
        out.printf("%-40s %-14s %-18s %12s %15s%n", "layer", "kind", "output", "params", "MACs");
        for (ModelStats.LayerStats l : s.layers()) {
            out.printf("%-40s %-14s %-18s %,12d %,15d%n", l.name(), l.kind(), l.outputShape(), l.params(), l.macs());
        }
        out.printf("%nmodel %s, input %s: %,d parameters, %,d MACs (%.3f G)%n", s.model(), s.input(), s.params(),
                s.macs(), s.macs() / 1e9);
        out.println(ModelStats.MAC_CONVENTION + ".");
    }
}
