package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.decompose.LayerReport;
import netslim.decompose.RankPolicy;
import netslim.decompose.Svd;
import netslim.decompose.TuckerDecomposer;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.report.ModelStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code decompose}: Tucker-2 of every eligible conv, ranks per layer on stdout, the model to an .nsm file. */
@Command(name = "decompose", description = "Tucker-2 decomposition of every eligible conv (k×k with k > 1, not "
        + "grouped, only where the 1x1·k×k·1x1 chain has fewer MACs); prints the ranks per layer.")
final class DecomposeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input shape for zoo models (default: the model's).")
    String input;

    @Option(names = "--rank", required = true, paramLabel = "POLICY",
            description = "evbmf, evbmf-weak:W (W in [0,1]; 0 = full rank, 1 = EVBMF), energy:E (E in (0,1]), "
                    + "fixed:R or fixed:R3,R4 (R3 input side, R4 output side).")
    String rank;

    @Option(names = "--hooi-iters", paramLabel = "N", defaultValue = "10",
            description = "Most HOOI sweeps after the HOSVD initialisation (default ${DEFAULT-VALUE}; 0 = HOSVD only).")
    int hooiIters;

    @Option(names = "--layers", paramLabel = "GLOB",
            description = "Only convs whose node name matches (comma-separated globs, * and ?).")
    String layers;

    @Option(names = "--round-to", paramLabel = "M", defaultValue = "1",
            description = "Round ranks up to a multiple of M (e.g. 8), capped at the full rank.")
    int roundTo;

    @Option(names = "--rank-floor", paramLabel = "F", defaultValue = "0.03",
            description = "Rank floor of the evbmf, evbmf-weak and energy policies: max(1, ceil(F x full rank)) "
                    + "(default ${DEFAULT-VALUE}).")
    double rankFloor;

    @Option(names = "--pointwise", description = "Also factor 1x1 convs as low-rank matrix products (off by default).")
    boolean pointwise;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "Layers decomposed at once (default 0: one per core).")
    int threads;

    @Option(names = "--device", paramLabel = "D", defaultValue = "cpu",
            description = "Where the SVDs run: cpu (the only one so far).")
    String device;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Option(names = "--out", required = true, paramLabel = "F.nsm",
            description = "Where to write the decomposed model.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        RankPolicy policy = RankPolicy.parse(rank).withFloorFraction(rankFloor).withRoundTo(roundTo);
        Svd svd = Svd.forDevice(device);
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".nsm")) {
            throw new NetslimException("--out " + out + ": decompose writes .nsm files");
        }
        OutputPaths.requireWritableFile(out, "--out");
        TuckerDecomposer.Options options = new TuckerDecomposer.Options(policy, hooiIters, layers, pointwise,
                threads);
        Graph g = model.load(ModelOptions.parseInputShape(input));
        OutputPaths.requireSpace(out, OutputPaths.modelBytes(g, 1), "--out"); // Tucker-2 only keeps what has fewer MACs
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        TuckerDecomposer.Result r = new TuckerDecomposer(options, svd, line -> {
                    err.println("netslim: " + line);
                    err.flush();
                }).decompose(g);
        double seconds = (System.nanoTime() - start) / 1e9;
        ModelStats before = ModelStats.of(model.displayName(), g);
        ModelStats after = ModelStats.of(out.getFileName().toString(), r.graph());
        Nsm.save(r.graph(), out);
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(Json.write(toJson(r, policy, before, after, seconds)));
        } else {
            printTable(r, before, after, seconds, o);
        }
        err.println("netslim: wrote " + out);
        return 0;
    }

    private JsonObject toJson(TuckerDecomposer.Result r, RankPolicy policy, ModelStats before, ModelStats after,
                              double seconds) {
        JsonObject o = new JsonObject();
        o.addProperty("model", model.displayName());
        o.addProperty("policy", policy.toString());
        o.addProperty("hooi_iters", hooiIters);
        o.addProperty("device", "cpu");
        o.addProperty("out", out.toString());
        o.addProperty("params_before", before.params());
        o.addProperty("params_after", after.params());
        o.addProperty("macs_before", before.macs());
        o.addProperty("macs_after", after.macs());
        o.addProperty("mac_convention", ModelStats.MAC_CONVENTION);
        o.addProperty("layers_replaced", r.replacedCount());
        o.addProperty("seconds", seconds);
        JsonArray layersJson = new JsonArray();
        for (LayerReport l : r.layers()) layersJson.add(layerJson(l));
        o.add("layers", layersJson);
        return o;
    }

    private static JsonObject layerJson(LayerReport l) {
        JsonObject j = new JsonObject();
        j.addProperty("name", l.name());
        j.addProperty("status", l.status().label());
        j.add("shape", Json.shape(l.weightShape()));
        j.add("ranks", l.r3() > 0 ? Json.ints(l.r3(), l.r4()) : null);
        j.addProperty("floor_hit", l.floorHit());
        if (l.replaced()) {
            j.addProperty("rel_error", l.relError());
            j.addProperty("hosvd_rel_error", l.hosvdRelError());
            j.addProperty("hooi_sweeps", l.hooiSweeps());
        }
        j.addProperty("macs_before", l.macsBefore());
        j.addProperty("macs_after", l.macsAfter());
        j.addProperty("params_before", l.paramsBefore());
        j.addProperty("params_after", l.paramsAfter());
        if (l.reason() != null) j.addProperty("reason", l.reason());
        j.addProperty("seconds", l.seconds());
        return j;
    }

    private static void printTable(TuckerDecomposer.Result r, ModelStats before, ModelStats after, double seconds,
                                   PrintWriter o) {
        o.printf("%-36s %-14s %-12s %9s %15s %15s%n", "layer", "weight", "ranks R3,R4", "rel.err", "MACs before",
                "MACs after");
        for (LayerReport l : r.layers()) {
            if (!l.replaced()) {
                o.printf("%-36s %-14s skipped: %s%n", l.name(), l.weightShape(), l.reason());
                continue;
            }
            String ranks = l.status() == LayerReport.Status.LOW_RANK ? "R=" + l.r4() : l.r3() + "," + l.r4();
            o.printf(Locale.ROOT, "%-36s %-14s %-12s %9.5f %,15d %,15d%s%n", l.name(), l.weightShape(), ranks,
                    l.relError(), l.macsBefore(), l.macsAfter(), floorMarker(l));
        }
        o.printf(Locale.ROOT, "total: %d of %d convs replaced; params %,d -> %,d (%.2fx); MACs %,d -> %,d (%.2fx); "
                        + "%.1f s%n", r.replacedCount(), r.layers().size(), before.params(), after.params(),
                ratio(before.params(), after.params()), before.macs(), after.macs(), ratio(before.macs(), after.macs()),
                seconds);
        o.println(ModelStats.MAC_CONVENTION + ".");
    }

    /** "  floor(R3)", "  floor(R4)", "  floor(R3,R4)" or nothing: which rank the floor decided. */
    private static String floorMarker(LayerReport l) {
        if (!l.floorHit()) return "";
        if (l.floorHitIn() && l.floorHitOut()) return "  floor(R3,R4)";
        return l.floorHitIn() ? "  floor(R3)" : "  floor(R4)";
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
