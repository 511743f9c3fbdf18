package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.compress.CompressionPipeline;
import netslim.compress.MatchedAccuracySearch;
import netslim.compress.Settings;
import netslim.compress.Variant;
import netslim.data.Dataset;
import netslim.data.DataSpec;
import netslim.data.Split;
import netslim.decompose.RankPolicy;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.report.CompressionReport;
import netslim.tensor.Shape;
import netslim.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code compress}: the paper's pipeline — prune → fine-tune, Tucker-2 → fine-tune — on one model; {@code all} runs
 * prune, tucker and prune+tucker from the same baseline at matched accuracy and writes the comparison report.
 */
@Command(name = "compress", description = "Prune and/or Tucker-2 decompose with fine-tuning after each stage; "
        + "--pipeline all searches each variant's strength to land within --max-drop of the baseline and writes "
        + "report.json, report.md, pareto.png and layers.png into --report DIR.")
final class CompressCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--data", paramLabel = "S", defaultValue = "fashion-mnist",
            description = "Fine-tuning and evaluation data (" + DataSpec.FORMS + "; default fashion-mnist).")
    String data;

    @Option(names = "--pipeline", paramLabel = "P", defaultValue = "all",
            description = "prune+tucker, prune, tucker or all (default: all, searched at matched accuracy).")
    String pipeline;

    @Option(names = "--max-drop", paramLabel = "PTS", defaultValue = "0.5",
            description = "Top-1 budget below the baseline, in percentage points (default 0.5).")
    double maxDrop;

    @Option(names = "--report", required = true, paramLabel = "DIR",
            description = "Report directory (created if missing): report.json, report.md, pareto.png, layers.png and "
                    + "each variant's model as <variant>.nsm.")
    Path report;

    @Option(names = "--out", paramLabel = "F2.nsm",
            description = "Also save the chosen model here (for all: the prune+tucker one).")
    Path out;

    @Option(names = "--ratio", paramLabel = "R",
            description = "Prune ratio of a single prune or prune+tucker pipeline (default 0.3; searched with all).")
    Double ratio;

    @Option(names = "--rank", paramLabel = "POLICY",
            description = "Rank policy of a single tucker or prune+tucker pipeline (default evbmf; searched with all).")
    String rank;

    @Option(names = "--criterion", paramLabel = "C", defaultValue = "l1",
            description = "Pruning criterion: l1 (default), taylor or taylor-weight.")
    String criterion;

    @Option(names = "--steps", paramLabel = "K", defaultValue = "1",
            description = "Prune/fine-tune rounds per pruning stage (default 1).")
    int steps;

    @Option(names = "--finetune-epochs", paramLabel = "E", defaultValue = "1",
            description = "Fine-tuning epochs after each stage (default 1; 0 = none).")
    int finetuneEpochs;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.01",
            description = "Fine-tuning learning rate (default 0.01: 0.1x the training default; cosine, Nesterov).")
    double lr;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "64", description = "Fine-tuning batch size (default 64).")
    int batch;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Fine-tune on the first N training images (default all).")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate (search and report) on the first N test images (default all).")
    int testLimit;

    @Option(names = "--search-steps", paramLabel = "N", defaultValue = "4",
            description = "Most candidates tried per variant by the bisection (default 4).")
    int searchSteps;

    @Option(names = "--max-ratio", paramLabel = "R", defaultValue = "0.8",
            description = "Strongest prune ratio the search tries (default 0.8).")
    double maxRatio;

    @Option(names = "--bench-iters", paramLabel = "N", defaultValue = "5",
            description = "Timed iterations per latency measurement, batch 1 and 32, at least (default 5; more where "
                    + "they take under ~100 ms; at each batch size in 3 interleaved rounds after ~1 s of warm-up per "
                    + "model).")
    int benchIters;

    @Option(names = "--hooi-iters", paramLabel = "N", defaultValue = "10",
            description = "Most HOOI sweeps per decomposed layer (default 10).")
    int hooiIters;

    @Option(names = "--rank-floor", paramLabel = "F", defaultValue = "0.03",
            description = "Rank floor of the EVBMF / energy policies as a fraction of the full rank (default 0.03).")
    double rankFloor;

    @Option(names = "--rank-batches", paramLabel = "N", defaultValue = "16",
            description = "Batches the taylor criteria average over (default 16).")
    int rankBatches;

    @Option(names = "--bn-calibration", paramLabel = "N", defaultValue = "512",
            description = "Training images that re-estimate the BatchNorm statistics after each stage (default 512; "
                    + "0 = off).")
    int bnCalibration;

    @Option(names = "--json", description = "The report.json object on stdout (nothing else there).")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<Variant> variants = Variant.pipeline(pipeline);
        boolean all = pipeline.trim().equalsIgnoreCase(Variant.ALL);
        Settings single = all ? null : singleSettings(variants.get(0));
        Importance.Criterion crit = Importance.Criterion.parse(criterion);
        MatchedAccuracySearch.Options searchOptions = new MatchedAccuracySearch.Options(maxDrop, searchSteps, maxRatio);
        PruneOptions pruneTemplate = PruneOptions.ratio(0).withSteps(steps);
        RankPolicy.parse("evbmf").withFloorFraction(rankFloor); // validates --rank-floor
        checkNumbers();
        checkOut();
        CompressionReport.prepareDirectory(report); // before any long work: an unwritable DIR fails here
        DataSpec dataSpec = DataSpec.parse(data);
        Graph g = loadModel(dataSpec);
        PrintWriter err = spec.commandLine().getErr();
        try (Backend backend = device.open();
             PruneData d = PruneData.open(dataSpec, g, model.displayName(), batch, trainLimit, testLimit, model.seed)) {
            Importance importance = Importance.of(crit, d.batches(), rankBatches, backend);
            TrainConfig fineTune = finetuneEpochs == 0 ? null : TrainConfig.defaults(finetuneEpochs).withLr(lr)
                    .withBatchSize(d.batch()).withSeed(model.seed);
            CompressionPipeline.Stages stages = new CompressionPipeline.Stages(importance, pruneTemplate, hooiIters,
                    rankFloor, 1, device.threads, fineTune, bnCalibration, d.batch());
            CompressRun.Plan plan = new CompressRun.Plan(pipeline.trim().toLowerCase(Locale.ROOT), variants, single,
                    searchOptions, stages, benchIters, report, out);
            CompressionReport r = new CompressRun(plan, err).execute(g, model.displayName(), data,
                    model.isFile() ? model.model : null, backend, d.train(), d.test(), null);
            PrintWriter o = spec.commandLine().getOut();
            if (json) {
                o.println(r.jsonText());
            } else {
                o.print(r.table());
                o.println("report: " + report.resolve(CompressionReport.MARKDOWN));
            }
            o.flush();
        }
        return 0;
    }

    /** --ratio / --rank of a single pipeline (defaults 0.3 and evbmf); refused with all, where they are searched. */
    private Settings singleSettings(Variant v) {
        if (ratio != null && !v.prunes()) throw new NetslimException("--ratio applies to the prune stage; --pipeline " + v.label() + " has none");
        if (rank != null && !v.decomposes()) throw new NetslimException("--rank applies to the tucker stage; --pipeline " + v.label() + " has none");
        return new Settings(v.prunes() ? (ratio == null ? 0.3 : ratio) : 0,
                v.decomposes() ? (rank == null ? "evbmf" : rank) : null);
    }

    private void checkNumbers() {
        if (pipeline.trim().equalsIgnoreCase(Variant.ALL) && (ratio != null || rank != null)) {
            throw new NetslimException("--pipeline all searches the prune ratio and the rank; drop --ratio/--rank "
                    + "(or use --max-ratio to bound the search)");
        }
        if (finetuneEpochs < 0) throw new NetslimException("--finetune-epochs must be ≥ 0, got " + finetuneEpochs);
        if (batch <= 0) throw new NetslimException("--batch must be positive, got " + batch);
        if (!(lr > 0)) throw new NetslimException("--lr must be > 0, got " + lr);
        if (trainLimit < 0 || testLimit < 0) throw new NetslimException("--train-limit and --test-limit must be ≥ 0");
        if (benchIters < 1) throw new NetslimException("--bench-iters must be ≥ 1, got " + benchIters);
        if (hooiIters < 0) throw new NetslimException("--hooi-iters must be ≥ 0, got " + hooiIters);
        if (bnCalibration < 0) throw new NetslimException("--bn-calibration must be ≥ 0, got " + bnCalibration);
        if (rankBatches < 1) throw new NetslimException("--rank-batches must be ≥ 1, got " + rankBatches);
    }

    /** --out: an .nsm file in an existing directory. */
    private void checkOut() {
        if (out == null) return;
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".nsm")) {
            throw new NetslimException("--out " + out + ": the compressed model is written as .nsm");
        }
        Path dir = out.toAbsolutePath().getParent();
        if (Files.isDirectory(out) || dir == null || !Files.isDirectory(dir)) {
            throw new NetslimException("--out " + out + ": not a file in an existing directory");
        }
    }

    /** A model file, or a zoo model built for the data's image size and class count. */
    private Graph loadModel(DataSpec dataSpec) {
        if (model.isFile()) return model.load(null);
        Shape in = dataSpec.kind() == DataSpec.Kind.FOLDER ? Zoo.defaultInput(model.model) : null;
        Dataset peek = dataSpec.open(Split.TEST, 1, in);
        if (model.numClasses == 0) model.numClasses = peek.numClasses();
        return model.load(Shape.of(peek.channels(), peek.height(), peek.width()));
    }
}
