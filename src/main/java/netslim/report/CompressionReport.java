package netslim.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.decompose.TuckerMetadata;
import netslim.io.AtomicFiles;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;

/**
 * The comparison a {@code compress} run writes to its report directory: {@value #JSON} (one entry per variant —
 * name, settings, top-1, top-5, params, MACs, latency per device, ratios against the baseline — and every search
 * point), {@value #MARKDOWN} (the same as tables), {@value #PARETO} (top-1 vs MACs and vs params, every point, the
 * chosen variants highlighted) and {@value #LAYERS} (per conv: baseline vs kept filters, Tucker ranks). Each file is
 * written atomically; {@link #prepareDirectory} checks the directory before any long work starts.
 *
 * <p>Ratios are "times smaller / faster": params_ratio = baseline params / variant params, macs_ratio likewise,
 * speedup_bN = baseline latency / variant latency at batch N, and speedup_over_mac_reduction = speedup / macs_ratio
 * (1 = the MAC reduction fully became speed; below 1 = the kernels did not keep up, see ALGORITHMS.md "Where the
 * speedup goes").
 */
public final class CompressionReport {
    public static final String JSON = "report.json", MARKDOWN = "report.md", PARETO = "pareto.png",
            LAYERS = "layers.png";

    /** Latency medians in milliseconds at batch 1 and batch 32 on one device. */
    public record Latency(String device, double b1Ms, double b32Ms) {
    }

    /** One conv layer of a variant: the baseline's filters, the kept ones, the Tucker ranks (0, 0 = not decomposed). */
    public record LayerRow(String layer, int baselineFilters, int keptFilters, int r3, int r4) {
    }

    /**
     * One variant (the baseline first). {@code ratio} and {@code rank} are its settings (0 / null when the stage
     * does not apply); {@code withinBudget} is null for the baseline; {@code file} where its model was saved.
     */
    public record Entry(String name, double ratio, String rank, String settings, double top1, double top5, long params,
                        long macs, Latency latency, Boolean withinBudget, String file, List<LayerRow> layers) {
    }

    /** One search point. */
    public record Point(int index, String variant, double ratio, String rank, double top1, double top5, long params,
                        long macs, boolean accepted, boolean chosen) {
    }

    /** What the run was: inputs, budget, and the settings every variant shared. */
    public record Run(String model, String data, String pipeline, String device, int evalImages, int fineTuneImages,
                      String fineTune, String criterion, double maxDropPoints, double floor, int searchSteps,
                      double seconds, List<String> notes) {
    }

    private final Run run;
    private final List<Entry> entries;
    private final List<Point> points;

    /** {@code entries} start with the baseline. */
    public CompressionReport(Run run, List<Entry> entries, List<Point> points) {
        if (entries.isEmpty()) throw new IllegalArgumentException("a report needs the baseline entry");
        this.run = run;
        this.entries = List.copyOf(entries);
        this.points = List.copyOf(points);
    }

    public Run run() {
        return run;
    }

    public List<Entry> entries() {
        return entries;
    }

    public List<Point> points() {
        return points;
    }

    public Entry baseline() {
        return entries.get(0);
    }

    /**
     * Creates {@code dir} if missing and checks a file can be created in it (a probe file, removed at once): an
     * unwritable directory fails here, in one line naming it, before any long work.
     */
    public static void prepareDirectory(Path dir) {
        try {
            AtomicFiles.requireWritableDirectory(dir);
        } catch (NetslimException e) {
            throw new NetslimException("--report " + e.getMessage(), e);
        }
    }

    /** Writes the four files into {@code dir} (each atomically). */
    public void write(Path dir) {
        prepareDirectory(dir);
        String json = jsonText();
        AtomicFiles.write(dir.resolve(JSON), out -> out.write((json + "\n").getBytes(StandardCharsets.UTF_8)));
        String md = ReportMarkdown.document(this);
        AtomicFiles.write(dir.resolve(MARKDOWN), out -> out.write(md.getBytes(StandardCharsets.UTF_8)));
        writePng(dir.resolve(PARETO), CompressionPlots.pareto(this));
        writePng(dir.resolve(LAYERS), CompressionPlots.layers(this));
    }

    /** The report.json object. */
    public JsonObject toJson() {
        return ReportJson.toJson(this);
    }

    /** The report.json text (pretty-printed; null values written, NaN written as null). */
    public String jsonText() {
        return ReportJson.GSON.toJson(ReportJson.toJson(this));
    }

    /** The comparison table (variant, top-1, params, MACs, latency, ratios) as aligned Markdown. */
    public String table() {
        return ReportMarkdown.comparison(this);
    }

    private static void writePng(Path file, BufferedImage image) {
        AtomicFiles.write(file, (OutputStream out) -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer");
        });
    }

    /** baseline / variant, NaN when either is missing or the variant is 0. */
    static double ratio(double baseline, double variant) {
        return variant > 0 && baseline > 0 ? baseline / variant : Double.NaN;
    }

    /**
     * Per conv of {@code baseline}: its out-channels there and in {@code variant} (the node of the same name: after
     * Tucker-2 that is the chain's last 1x1, so still the conv's output width), and the Tucker ranks the variant's
     * metadata records for it beyond those the baseline already had.
     */
    public static List<LayerRow> layerRows(Graph baseline, Graph variant) {
        Map<String, int[]> ranks = new HashMap<>();
        JsonArray records = TuckerMetadata.records(variant);
        for (int i = TuckerMetadata.records(baseline).size(); i < records.size(); i++) {
            JsonObject r = records.get(i).getAsJsonObject();
            JsonArray rk = r.getAsJsonArray("ranks");
            ranks.put(r.get("layer").getAsString(), new int[] {rk.get(0).getAsInt(), rk.get(1).getAsInt()});
        }
        List<LayerRow> rows = new ArrayList<>();
        for (Node n : baseline.nodes()) {
            if (!(n.layer() instanceof Layer.Conv2d c) || isTuckerPart(n.name())) continue;
            int kept = variant.nodes().stream().filter(m -> m.name().equals(n.name())).findFirst()
                    .map(m -> m.layer() instanceof Layer.Conv2d c2 ? c2.spec().outChannels() : 0).orElse(0);
            int[] rk = ranks.getOrDefault(n.name(), new int[2]);
            rows.add(new LayerRow(n.name(), c.spec().outChannels(), kept, rk[0], rk[1]));
        }
        return rows;
    }

    /** The first two convs of an earlier decomposition's chain (the conv's own name is the last one). */
    private static boolean isTuckerPart(String name) {
        return name.endsWith(".tucker_in") || name.endsWith(".tucker_core") || name.endsWith(".lowrank_in");
    }
}
