package netslim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.Augmentation;
import netslim.data.DataSpec;
import netslim.data.Dataset;
import netslim.data.Split;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.report.Bench;
import netslim.report.ModelStats;
import netslim.tensor.Shape;
import netslim.train.EvalResult;
import netslim.train.TrainConfig;
import netslim.train.TrainResult;
import netslim.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code demo}: the main job on the embedded default. In this version it checks for Fashion-MNIST (installing the
 * Debian package when it can), builds googlenet-cifar (width 0.25), trains it briefly on a subset, evaluates it on
 * a test subset, saves it under the demo directory, prints its statistics and benchmarks it. Pruning and Tucker-2
 * compression join the demo when they exist. Budget: training ~3–4 min on 2 cores, the whole demo ≤ 10 min with
 * the compression stages.
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

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "2000",
            description = "Test images to evaluate (default 2000; 0 = all 10000).")
    int testLimit;

    @Option(names = "--out-dir", paramLabel = "DIR", defaultValue = "netslim-demo",
            description = "Where the demo writes its models (default ./netslim-demo).")
    Path outDir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (trainLimit < 0 || testLimit < 0) throw new NetslimException("--train-limit and --test-limit must be ≥ 0");
        Path model = prepareOutDir().resolve("googlenet-cifar.nsm"); // before the data, which may mean an install
        DataSpec dataSpec = resolveData();
        Dataset train = dataSpec.open(Split.TRAIN, trainLimit, null), test = dataSpec.open(Split.TEST, testLimit, null);
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
            TrainResult r = train(g, b, train, test, config, model);
            EvalResult t = r.test();
            out.printf("trained in %.1f s (%.0f images/s): test top-1 %.2f %% (top-5 %.2f %%) on %d test images; "
                    + "saved %s%n", r.seconds(), r.imagesPerS(), 100 * t.top1(), 100 * t.top5(), t.count(), model);
            for (int bs : List.of(1, 32)) {
                Bench.Result br = Bench.run("googlenet-cifar", g, b, bs, 3, 10, m -> { });
                out.printf("bench batch %d: median %.2f ms (p10 %.2f, p90 %.2f), %.0f images/s%n", bs, br.medianMs(),
                        br.p10Ms(), br.p90Ms(), br.imagesPerS());
            }
        }
        out.println("not yet in the demo: the compress comparison (baseline vs prune vs Tucker-2 vs both); "
                + "pruning and decomposition already work on the saved model: ./netslim prune / ./netslim decompose");
        return 0;
    }

    private TrainResult train(Graph g, Backend b, Dataset train, Dataset test, TrainConfig config, Path model) {
        ProgressReporter progress = new ProgressReporter(spec.commandLine().getErr());
        try (Trainer t = new Trainer(g, "googlenet-cifar", b, train, test, config, Map.of("command", "demo"))) {
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
