package netslim.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.nn.Graph;
import netslim.report.Bench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code bench}: latency (median, p10, p90) and throughput of inference or, with --train, of a training step. */
@Command(name = "bench", description = "Inference latency (median, p10, p90) and throughput after warm-up; with "
        + "--train, of one training step (forward, cross-entropy, backward, SGD momentum update).")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "Batch size (default 1).")
    int batch;

    @Option(names = "--iters", paramLabel = "N", defaultValue = "20", description = "Timed iterations (default 20).")
    int iters;

    @Option(names = "--warmup", paramLabel = "W", defaultValue = "5",
            description = "Warm-up iterations: at least W (default 5), and as many more as --warmup-seconds takes.")
    int warmup;

    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "5",
            description = "Keep warming up until S seconds have passed (default 5; 0: only --warmup iterations). The "
                    + "JIT compiles the per-layer code seconds into a run: a few passes leave it half done.")
    double warmupSeconds;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input shape for zoo models (default: the model's).")
    String input;

    @Option(names = "--train", description = "Time a training step instead of inference: TRAINING-mode forward, "
            + "softmax cross-entropy, backward, SGD update (lr 0.01, momentum 0.9, no weight decay) on seeded random "
            + "labels, as ../shared/peers/torch_bench.py --train does.")
    boolean train;

    @Option(names = "--layers", paramLabel = "N", arity = "0..1", fallbackValue = "15",
            description = "Also time every layer of the serving plan (CPU: wall time; CUDA: events) and list the N slowest "
                    + "(default 15; --json lists all): median ms, share of the summed layer times, MACs, GMAC/s.")
    Integer layers;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (batch <= 0) throw new NetslimException("--batch must be positive, got " + batch);
        if (iters <= 0) throw new NetslimException("--iters must be positive, got " + iters);
        if (warmup < 0) throw new NetslimException("--warmup must be ≥ 0, got " + warmup);
        if (!(warmupSeconds >= 0) || Double.isInfinite(warmupSeconds))
            throw new NetslimException("--warmup-seconds must be a finite number ≥ 0, got " + warmupSeconds);
        if (layers != null && layers < 1) throw new NetslimException("--layers must be ≥ 1, got " + layers);
        if (layers != null && train) throw new NetslimException("--layers times inference layers; drop --train");
        Graph g = model.load(ModelOptions.parseInputShape(input));
        Bench.Result r;
        java.util.List<Bench.LayerTime> perLayer = null;
        String gemm;
        try (Backend b = device.open()) {
            gemm = b.toString();
            System.err.printf(java.util.Locale.ROOT, "netslim: bench %s %s batch %d on %s: warm-up of at least %d "
                    + "iterations and %s s, then %d timed iterations%n", model.displayName(),
                    train ? "training step" : "inference", batch, gemm, warmup, seconds(warmupSeconds), iters);
            r = train ? Bench.train(model.displayName(), g, b, batch, warmup, warmupSeconds, iters, msg -> { })
                    : Bench.run(model.displayName(), g, b, batch, warmup, warmupSeconds, iters, msg -> { });
            System.err.printf(java.util.Locale.ROOT, "netslim: warmed up with %d iterations in %.1f s%n", r.warmup(),
                    r.warmupSeconds());
            if (layers != null) perLayer = Bench.layers(g, b, batch, warmup, iters);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("model", r.model());
            o.addProperty("mode", train ? "train" : "infer");
            o.addProperty("device", r.device());
            o.addProperty("backend", gemm);
            o.addProperty("batch", r.batch());
            o.addProperty("warmup", r.warmup());
            o.addProperty("warmup_s", r.warmupSeconds());
            o.addProperty("iters", r.iters());
            o.addProperty("median_ms", r.medianMs());
            o.addProperty("p10_ms", r.p10Ms());
            o.addProperty("p90_ms", r.p90Ms());
            o.addProperty("images_per_s", r.imagesPerS());
            if (!"cpu".equals(r.device())) o.addProperty("cuda_graph", r.deviceGraph());
            o.addProperty("macs_per_image", netslim.report.ModelStats.of(model.displayName(), g).macs());
            if (perLayer != null) {
                com.google.gson.JsonArray a = new com.google.gson.JsonArray();
                for (Bench.LayerTime t : perLayer) {
                    JsonObject l = new JsonObject();
                    l.addProperty("name", t.name());
                    l.addProperty("kind", t.kind());
                    l.addProperty("median_ms", t.medianMs());
                    l.addProperty("macs", t.macs());
                    a.add(l);
                }
                o.add("layers", a);
            }
            out.println(Json.write(o));
        } else {
            out.printf("%s %sbatch %d on %s%s: median %.2f ms (p10 %.2f, p90 %.2f), %.1f images/s%n", r.model(),
                    train ? "training step " : "", r.batch(), gemm, r.deviceGraph() ? ", CUDA graph" : "",
                    r.medianMs(), r.p10Ms(), r.p90Ms(), r.imagesPerS());
            if (perLayer != null) printLayers(out, perLayer, layers, batch);
        }
        return 0;
    }

    /** 5 → "5", 0.5 → "0.5". */
    private static String seconds(double s) {
        return s == Math.rint(s) ? String.valueOf((long) s) : String.valueOf(s);
    }

    /** The n slowest layers: median ms, share of the summed per-layer medians, MACs per image, GMAC/s. */
    private static void printLayers(PrintWriter out, java.util.List<Bench.LayerTime> all, int n, int batch) {
        double sum = all.stream().mapToDouble(Bench.LayerTime::medianMs).sum();
        out.printf("slowest layers (serving plan; sum of per-layer medians %.2f ms):%n", sum);
        out.printf("  %-32s %-14s %9s %6s %12s %8s%n", "layer", "kind", "ms", "share", "MACs/image", "GMAC/s");
        for (Bench.LayerTime t : all.subList(0, Math.min(n, all.size()))) {
            String rate = t.macs() > 0 && t.medianMs() > 0
                    ? String.format(java.util.Locale.ROOT, "%.1f", t.macs() * (double) batch / t.medianMs() / 1e6) : "-";
            out.printf(java.util.Locale.ROOT, "  %-32s %-14s %9.3f %5.1f%% %,12d %8s%n", t.name(), t.kind(),
                    t.medianMs(), 100 * t.medianMs() / sum, t.macs(), rate);
        }
    }
}
