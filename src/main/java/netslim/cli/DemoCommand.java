package netslim.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.Idx;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.report.Bench;
import netslim.report.ModelStats;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code demo}: the main job on the embedded default. In this version (engine core only) it checks for
 * Fashion-MNIST (installing the Debian package when it can), builds googlenet-cifar, prints its statistics, runs it
 * on real test images and benchmarks it. Training and compression join the demo when they exist.
 */
@Command(name = "demo", description = "The main job on the embedded default model and Fashion-MNIST.")
final class DemoCommand implements Callable<Integer> {
    static final Path DEFAULT_DATA = Path.of("/usr/share/datasets/fashion-mnist");

    @Mixin
    DeviceOptions device;

    @Option(names = "--data", paramLabel = "S", defaultValue = "fashion-mnist",
            description = "fashion-mnist (the Debian package dataset-fashion-mnist) or idx:DIR.")
    String data;

    @Option(names = "--width", paramLabel = "W", defaultValue = "0.25",
            description = "googlenet-cifar width multiplier for the demo (default 0.25).")
    double width;

    @Option(names = "--images", paramLabel = "N", defaultValue = "512", description = "Test images to classify.")
    int images;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Path dir = resolveData();
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(10, Shape.of(1, 28, 28), width, 0));
        ModelStats s = ModelStats.of("googlenet-cifar", g);
        out.printf("model googlenet-cifar (width %.2f), input 1x28x28: %,d parameters, %,d MACs%n", width, s.params(), s.macs());

        Idx.Images imgs = Idx.readImages(dir.resolve("t10k-images-idx3-ubyte.gz"), images);
        int[] labels = Idx.readLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), images);
        int batch = 64;
        int correct = 0, seen = 0;
        long t0 = System.nanoTime();
        try (Backend b = device.open(); Executor ex = new Executor(g, b, batch, Executor.Mode.INFERENCE)) {
            out.println("backend: " + b);
            for (int start = 0; start + batch <= imgs.count(); start += batch) {
                Tensor logits = ex.forwardToHost(batchTensor(imgs, start, batch));
                for (int i = 0; i < batch; i++) {
                    if (argmax(logits, i) == labels[start + i]) correct++;
                    seen++;
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf("classified %d Fashion-MNIST test images in %.2f s (%.0f images/s); untrained top-1 %.1f %% (chance is 10 %%)%n",
                    seen, secs, seen / secs, 100.0 * correct / Math.max(1, seen));
            for (int bs : List.of(1, 32)) {
                Bench.Result r = Bench.run("googlenet-cifar", g, b, bs, 3, 10, m -> { });
                out.printf("bench batch %d: median %.2f ms (p10 %.2f, p90 %.2f), %.0f images/s%n", bs, r.medianMs(),
                        r.p10Ms(), r.p90Ms(), r.imagesPerS());
            }
        }
        out.println("not yet in this version: training (train/finetune), pruning, Tucker-2 decomposition and the "
                + "compress comparison; the demo will run them once they exist.");
        return 0;
    }

    /** Normalised with Fashion-MNIST's mean and standard deviation (0.2860, 0.3530). */
    private static Tensor batchTensor(Idx.Images imgs, int start, int batch) {
        int hw = imgs.rows() * imgs.cols();
        float[] x = new float[batch * hw];
        for (int i = 0; i < batch; i++) {
            for (int p = 0; p < hw; p++) x[i * hw + p] = (imgs.pixel(start + i, p) / 255f - 0.2860f) / 0.3530f;
        }
        return Tensor.of(Shape.of(batch, 1, imgs.rows(), imgs.cols()), x);
    }

    private static int argmax(Tensor logits, int row) {
        int k = logits.shape().dim(1), best = 0;
        for (int j = 1; j < k; j++) if (logits.get(row * k + j) > logits.get(row * k + best)) best = j;
        return best;
    }

    private Path resolveData() {
        if (data.startsWith("idx:")) {
            Path d = Path.of(data.substring(4));
            if (!Files.isRegularFile(d.resolve("t10k-images-idx3-ubyte.gz"))) {
                throw new NetslimException(d + ": no t10k-images-idx3-ubyte.gz (expected the Fashion-MNIST IDX files)");
            }
            return d;
        }
        if (!data.equals("fashion-mnist")) throw new NetslimException("--data must be fashion-mnist or idx:DIR, got '" + data + "'");
        if (Files.isRegularFile(DEFAULT_DATA.resolve("t10k-images-idx3-ubyte.gz"))) return DEFAULT_DATA;
        installFashionMnist();
        return DEFAULT_DATA;
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
