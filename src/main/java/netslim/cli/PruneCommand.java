package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.DataSpec;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.prune.FilterPruner;
import netslim.prune.FineTuner;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.prune.PruneRound;
import netslim.prune.TrainerFineTuner;
import netslim.report.ModelStats;
import netslim.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code prune}: iterative filter pruning (rank, mask, compact, fine-tune) of a model; writes the pruned .nsm. */
@Command(name = "prune", description = "Filter pruning: rank channels (l1, taylor, taylor-weight), mask, compact, "
        + "optionally fine-tune, in --steps rounds; writes the smaller model.")
final class PruneCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input shape for zoo models (default: the model's).")
    String input;

    @Option(names = "--data", paramLabel = "S", description = "Training data (" + DataSpec.FORMS + "); needed for the "
            + "taylor criteria and for fine-tuning, not for l1 with --finetune-epochs 0.")
    String data;

    @Option(names = "--criterion", paramLabel = "C", defaultValue = "l1",
            description = "l1 (default), taylor (activation x gradient) or taylor-weight.")
    String criterion;

    @Option(names = "--ratio", required = true, paramLabel = "R",
            description = "Fraction of all prunable filters to remove in total, in [0, 1).")
    double ratio;

    @Option(names = "--steps", paramLabel = "K", defaultValue = "1", description = "Prune/fine-tune rounds (default 1).")
    int steps;

    @Option(names = "--finetune-epochs", paramLabel = "E", defaultValue = "0",
            description = "Fine-tuning epochs after each round (default 0).")
    int finetuneEpochs;

    @Option(names = "--per-layer", description = "Rank within each layer (each loses the same fraction) instead of globally.")
    boolean perLayer;

    @Option(names = "--floor", paramLabel = "F", defaultValue = "0.1",
            description = "Each layer keeps at least this fraction of its channels, and never 0 (default 0.1).")
    double floor;

    @Option(names = "--round-to", paramLabel = "M", defaultValue = "1",
            description = "Keep pruned channel counts multiples of M where possible (e.g. 8; default 1 = off).")
    int roundTo;

    @Option(names = "--layers", paramLabel = "GLOB", defaultValue = "*",
            description = "Comma-separated globs on conv names: only their channel groups may lose filters.")
    String layers;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Batch size for ranking and fine-tuning.")
    int batch;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training examples (default all).")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate fine-tuned models on only the first N test examples (default all).")
    int testLimit;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.01",
            description = "Fine-tuning learning rate (default 0.01: 0.1x the training default; cosine, Nesterov).")
    double lr;

    @Option(names = "--rank-batches", paramLabel = "N", defaultValue = "16",
            description = "Batches the taylor criteria average over, per round (default 16).")
    int rankBatches;

    @Option(names = "--out", required = true, paramLabel = "F.nsm", description = "Where to write the pruned model.")
    Path out;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Importance.Criterion crit = Importance.Criterion.parse(criterion);
        PruneOptions options = new PruneOptions(ratio, steps, perLayer, floor, roundTo, layers);
        checkOptions();
        boolean needsData = crit.needsData() || finetuneEpochs > 0;
        if (needsData && data == null) {
            throw new NetslimException("--data is needed for " + (crit.needsData() ? "criterion " + crit.cliName()
                    : "--finetune-epochs " + finetuneEpochs));
        }
        DataSpec dataSpec = data == null ? null : DataSpec.parse(data);
        PrintWriter err = spec.commandLine().getErr();
        java.util.function.Consumer<String> progress = m -> {
            err.println("netslim: " + m);
            err.flush();
        };
        Graph g = model.load(ModelOptions.parseInputShape(input));
        OutputPaths.requireSpace(out, OutputPaths.modelBytes(g, 1), "--out"); // the pruned model is smaller
        ModelStats before = ModelStats.of(model.displayName(), g);
        long t0 = System.nanoTime();
        FilterPruner.Result result;
        Accuracy acc = new Accuracy();
        try (Backend backend = needsData ? device.open() : null;
             PruneData d = needsData ? PruneData.open(dataSpec, g, model.displayName(), batch, trainLimit,
                     finetuneEpochs > 0 ? testLimit : -1, model.seed) : null) {
            Importance importance = Importance.of(crit, d == null ? null : d.batches(), rankBatches, backend);
            FineTuner tuner = FineTuner.NONE;
            if (finetuneEpochs > 0) {
                acc.before = d.top1(g, backend);
                progress.accept(String.format(Locale.ROOT, "%s before pruning: test top-1 %.2f %%",
                        model.displayName(), 100 * acc.before));
                TrainConfig config = TrainConfig.defaults(finetuneEpochs).withLr(lr).withBatchSize(d.batch())
                        .withSeed(model.seed);
                acc.tuner = new TrainerFineTuner(backend, d.train(), d.test(), config, model.displayName(),
                        progress);
                tuner = acc.tuner;
            }
            result = new FilterPruner(options, importance, tuner)
                    .messages(progress).prune(g);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Graph pruned = result.graph();
        Nsm.save(pruned, out);
        ModelStats after = ModelStats.of(out.getFileName().toString(), pruned);
        List<LayerWidth> widths = layerWidths(g, pruned);
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(Json.write(toJson(crit, options, before, after, widths, result.rounds(), acc, seconds)));
        } else {
            print(w, before, after, widths, acc, seconds);
        }
        progress.accept("wrote " + out);
        return 0;
    }

    private void checkOptions() {
        if (finetuneEpochs < 0) throw new NetslimException("--finetune-epochs must be ≥ 0, got " + finetuneEpochs);
        if (batch <= 0) throw new NetslimException("--batch must be positive, got " + batch);
        if (!(lr > 0)) throw new NetslimException("--lr must be > 0, got " + lr);
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".nsm")) {
            throw new NetslimException("--out " + out + ": the pruned model is written as .nsm");
        }
        OutputPaths.requireWritableFile(out, "--out");
    }

    /** Test top-1 before pruning and after each round's fine-tuning (when fine-tuning). */
    static final class Accuracy {
        double before = Double.NaN;
        TrainerFineTuner tuner;

        List<Double> rounds() {
            return tuner == null ? List.of() : tuner.top1();
        }

        double after() {
            List<Double> r = rounds();
            return r.isEmpty() ? Double.NaN : r.get(r.size() - 1);
        }
    }

    /** A conv's (or depthwise conv's) out-channels before and after. */
    record LayerWidth(String name, int kept, int original) {
    }

    static List<LayerWidth> layerWidths(Graph before, Graph after) {
        List<LayerWidth> out = new ArrayList<>();
        for (Node n : before.nodes()) {
            if (n.layer() instanceof Layer.Conv2d c && after.node(n.name()).layer() instanceof Layer.Conv2d c2) {
                out.add(new LayerWidth(n.name(), c2.spec().outChannels(), c.spec().outChannels()));
            }
        }
        return out;
    }

    private static void print(PrintWriter w, ModelStats before, ModelStats after, List<LayerWidth> widths, Accuracy acc,
                              double secs) {
        w.printf("%-40s %15s%n", "layer", "kept/original");
        for (LayerWidth l : widths) {
            w.printf("%-40s %7d/%-7d%s%n", l.name(), l.kept(), l.original(), l.kept() < l.original()
                    ? String.format(Locale.ROOT, " (%.0f %%)", 100.0 * l.kept() / l.original()) : "");
        }
        w.printf(Locale.ROOT, "%nparams %,d -> %,d (%.2fx smaller), MACs %,d -> %,d (%.2fx fewer), %.1f s%n",
                before.params(), after.params(), (double) before.params() / after.params(), before.macs(),
                after.macs(), (double) before.macs() / after.macs(), secs);
        if (!Double.isNaN(acc.before)) {
            w.printf(Locale.ROOT, "test top-1 %.2f %% before pruning, %.2f %% after (fine-tuned)%n", 100 * acc.before,
                    100 * acc.after());
        }
    }

    private JsonObject toJson(Importance.Criterion crit, PruneOptions o, ModelStats before, ModelStats after,
                              List<LayerWidth> widths, List<PruneRound> rounds, Accuracy acc, double seconds) {
        JsonObject j = new JsonObject();
        j.addProperty("model", model.displayName());
        j.addProperty("criterion", crit.cliName());
        j.addProperty("ratio", o.ratio());
        j.addProperty("steps", o.steps());
        j.addProperty("per_layer", o.perLayer());
        j.addProperty("floor", o.floor());
        j.addProperty("round_to", o.roundTo());
        j.addProperty("layers_glob", o.layers());
        j.addProperty("finetune_epochs", finetuneEpochs);
        j.addProperty("params_before", before.params());
        j.addProperty("params_after", after.params());
        j.addProperty("macs_before", before.macs());
        j.addProperty("macs_after", after.macs());
        j.addProperty("mac_convention", ModelStats.MAC_CONVENTION);
        JsonArray layersJson = new JsonArray();
        for (LayerWidth l : widths) {
            JsonObject lj = new JsonObject();
            lj.addProperty("name", l.name());
            lj.addProperty("kept", l.kept());
            lj.addProperty("original", l.original());
            layersJson.add(lj);
        }
        j.add("layers", layersJson);
        JsonArray roundsJson = new JsonArray();
        for (PruneRound r : rounds) {
            JsonObject rj = new JsonObject();
            if (r.round() <= acc.rounds().size()) rj.addProperty("top1", acc.rounds().get(r.round() - 1));
            rj.addProperty("round", r.round());
            rj.addProperty("removed", r.removed());
            rj.addProperty("kept_fraction", r.keptFraction());
            roundsJson.add(rj);
        }
        j.add("rounds", roundsJson);
        if (!Double.isNaN(acc.before)) {
            j.addProperty("top1_before", acc.before);
            j.addProperty("top1_after", acc.after());
        }
        j.addProperty("seconds", seconds);
        j.addProperty("out", out.toString());
        return j;
    }
}
