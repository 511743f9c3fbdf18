package netslim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.compress.CompressionPipeline;
import netslim.compress.MatchedAccuracySearch;
import netslim.compress.Measurement;
import netslim.compress.Settings;
import netslim.compress.Variant;
import netslim.data.Augmentation;
import netslim.data.DataSpec;
import netslim.data.Dataset;
import netslim.data.Split;
import netslim.decompose.RankPolicy;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.report.CompressionReport;
import netslim.report.ModelStats;
import netslim.tensor.Shape;
import netslim.train.EvalResult;
import netslim.train.Evaluator;
import netslim.train.TrainConfig;
import netslim.train.TrainResult;
import netslim.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code demo}: the main job on the embedded default. It checks for Fashion-MNIST (installing the Debian package when
 * it can), builds googlenet-cifar (width 0.25), trains it briefly on a subset, evaluates it on a test subset, saves
 * it under the demo directory, then runs {@code compress --pipeline all} on it (prune, tucker and prune+tucker at
 * matched accuracy, each fine-tuned) and prints the comparison table and where the report is. The budgets (training
 * images, search points, fine-tuning images, test images) keep the whole demo within 10 minutes on 2 cores.
 */
@Command(name = "demo", description = "The main job on the embedded default model and Fashion-MNIST.")
final class DemoCommand implements Callable<Integer> {
    static final Path DEFAULT_DATA = Path.of(DataSpec.FASHION_MNIST_DIR);

    @Mixin
    DeviceOptions device;

    @Option(names = "--data", paramLabel = "S", defaultValue = "fashion-mnist",
            description = "fashion-mnist (the Debian package dataset-fashion-mnist) or idx:DIR.")
    String data;

    @Option(names = "--width", paramLabel = "W", defaultValue = "0.25",
            description = "googlenet-cifar width multiplier for the demo (default 0.25).")
    double width;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "3000",
            description = "Training images (default 3000: about 3 minutes on 2 cores).")
    int trainLimit;

    @Option(names = "--epochs", paramLabel = "E", defaultValue = "1", description = "Training epochs (default 1).")
    int epochs;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "1000",
            description = "Test images every model is evaluated on (default 1000; 0 = all 10000).")
    int testLimit;

    @Option(names = "--finetune-limit", paramLabel = "N", defaultValue = "320",
            description = "Training images each compression fine-tune uses (default 320).")
    int finetuneLimit;

    @Option(names = "--search-steps", paramLabel = "N", defaultValue = "3",
            description = "Most search points per variant (default 3).")
    int searchSteps;

    // 2 points, not compress's 0.5: on the demo's 1000 test images a top-1 near 78 % has a sampling standard error
    // of about 1.3 points, so a half-point budget would be decided by noise.
    @Option(names = "--max-drop", paramLabel = "PTS", defaultValue = "2",
            description = "Top-1 budget below the baseline, in points (default 2: the demo's test subset is small).")
    double maxDrop;

    @Option(names = "--bench-iters", paramLabel = "N", defaultValue = "5",
            description = "Timed iterations per latency measurement (default 5).")
    int benchIters;

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "netslim-demo",
            description = "Where the demo writes its models (default ./netslim-demo).")
    Path outDir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (trainLimit < 0 || testLimit < 0 || finetuneLimit < 0) {
            throw new NetslimException("--train-limit, --test-limit and --finetune-limit must be ≥ 0");
        }
        if (benchIters < 1) throw new NetslimException("--bench-iters must be ≥ 1, got " + benchIters);
        MatchedAccuracySearch.Options searchOptions = new MatchedAccuracySearch.Options(maxDrop, searchSteps, 0.8);
        Path dir = prepareOutDir(), reportDir = dir.resolve("report"); // before the data, which may mean an install
        CompressionReport.prepareDirectory(reportDir);
        DataSpec dataSpec = resolveData();
        Path model = dir.resolve("googlenet-cifar.nsm");
        Dataset train = dataSpec.open(Split.TRAIN, trainLimit, null), test = dataSpec.open(Split.TEST, testLimit, null);
        Dataset tuneSet = dataSpec.open(Split.TRAIN, finetuneLimit, null);
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(train.numClasses(),
                Shape.of(train.channels(), train.height(), train.width()), width, 0));
        ModelStats s = ModelStats.of("googlenet-cifar", g);
        out.printf("model googlenet-cifar (width %.2f), input %s: %,d parameters, %,d MACs%n", width, g.inputShape(),
                s.params(), s.macs());
        out.flush();
        // A short run: batch 32 for more steps, no augmentation (it slows learning when there is so little of it).
        TrainConfig config = TrainConfig.defaults(epochs).withBatchSize(32).withAugmentation(Augmentation.NONE);
        try (Backend b = device.open()) {
            out.println("backend: " + b);
            out.printf("training on %d Fashion-MNIST images for %d epoch%s (batch 32, lr 0.1 cosine, momentum 0.9 "
                    + "nesterov, wd 5e-4); progress on stderr%n", train.size(), epochs, epochs == 1 ? "" : "s");
            out.flush();
            TrainResult r = train(g, b, train, config, model);
            Measurement base = measure(g, b, train, test);
            out.printf("trained in %.1f s (%.0f images/s): test top-1 %.2f %% (top-5 %.2f %%) on %d test images; "
                    + "saved %s%n", r.seconds(), r.imagesPerS(), 100 * base.top1(), 100 * base.top5(), test.size(),
                    model);
            out.printf("compressing (pipeline all: prune, tucker, prune+tucker at matched accuracy, top-1 within %s "
                    + "points; %d search points per variant at most, each fine-tuned 1 epoch on %d images); progress "
                    + "on stderr%n", Settings.number(maxDrop), searchSteps, tuneSet.size());
            out.flush();
            CompressRun.Plan plan = new CompressRun.Plan(Variant.ALL, Variant.pipeline(Variant.ALL), null,
                    searchOptions, stages(config), benchIters, reportDir, null);
            CompressionReport report = new CompressRun(plan, spec.commandLine().getErr()).execute(g, "googlenet-cifar",
                    data, model.toString(), b, tuneSet, test, base);
            out.println();
            out.print(report.table());
            out.println();
            out.println("report: " + reportDir.resolve(CompressionReport.MARKDOWN) + " (with report.json, pareto.png, "
                    + "layers.png and each variant's model)");
        }
        return 0;
    }

    /**
     * Fine-tuning like the training run at 0.1x its LR, one epoch; BatchNorm statistics re-estimated on the
     * fine-tuning images; l1 ranking (needs no extra data pass).
     */
    private CompressionPipeline.Stages stages(TrainConfig training) {
        TrainConfig fineTune = training.withEpochs(1).withLr(0.1 * training.lr());
        return new CompressionPipeline.Stages(Importance.l1(), PruneOptions.ratio(0), 10,
                RankPolicy.DEFAULT_FLOOR_FRACTION, 1, device.threads, fineTune, finetuneLimit, 64);
    }

    private static Measurement measure(Graph g, Backend b, Dataset train, Dataset test) {
        EvalResult r;
        try (Evaluator e = new Evaluator(g, b, Math.min(64, test.size()))) {
            r = e.evaluate(test, train.defaultNormalization());
        }
        ModelStats s = ModelStats.of("googlenet-cifar", g);
        return new Measurement(r.top1(), r.top5(), s.params(), s.macs());
    }

    /** Trains without a test set: the baseline is evaluated once afterwards, on the set the compression uses. */
    private TrainResult train(Graph g, Backend b, Dataset train, TrainConfig config, Path model) {
        ProgressReporter progress = new ProgressReporter(spec.commandLine().getErr());
        try (Trainer t = new Trainer(g, "googlenet-cifar", b, train, null, config, Map.of("command", "demo"))) {
            t.listener(progress).checkpointTo(model);
            return t.train();
        } finally {
            progress.closeBar();
        }
    }

    private Path prepareOutDir() {
        OutputPaths.requireWritableDirectory(outDir, "--out-dir");
        return outDir;
    }

    private DataSpec resolveData() {
        if (data.startsWith("idx:")) return DataSpec.parse(data);
        if (!data.equals("fashion-mnist")) throw new NetslimException("--data must be fashion-mnist or idx:DIR, got '" + data + "'");
        if (!Files.isRegularFile(DEFAULT_DATA.resolve("t10k-images-idx3-ubyte.gz"))) installFashionMnist();
        return DataSpec.parse("fashion-mnist");
    }

    /** Installs the Debian package when running as root with apt-get; otherwise says exactly how. */
    private static void installFashionMnist() {
        String how = "Fashion-MNIST is missing: install it with 'sudo apt-get install dataset-fashion-mnist' "
                + "(Debian/Ubuntu) or pass --data idx:DIR with the four *-ubyte.gz files";
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) throw new NetslimException(how);
        System.err.println("netslim: Fashion-MNIST is missing; installing the Debian package dataset-fashion-mnist ...");
        try {
            run("apt-get", "update", "-q");
            run("apt-get", "install", "-y", "-q", "dataset-fashion-mnist");
        } catch (IOException | InterruptedException e) {
            throw new NetslimException(how + " (automatic install failed: " + e.getMessage() + ")");
        }
        if (!Files.isRegularFile(DEFAULT_DATA.resolve("t10k-images-idx3-ubyte.gz"))) throw new NetslimException(how);
    }

    private static void run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.INHERIT)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " exited with " + p.exitValue());
    }
}
