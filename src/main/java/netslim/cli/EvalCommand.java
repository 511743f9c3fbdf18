package netslim.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.DataSpec;
import netslim.data.Dataset;
import netslim.data.Split;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.tensor.Shape;
import netslim.train.DataChecks;
import netslim.train.EvalResult;
import netslim.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code eval}: top-1 / top-5, loss, per-class accuracy and confusion matrix on the test split. */
@Command(name = "eval", description = "Top-1 / top-5 accuracy, loss and per-class accuracy on the test split.")
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--data", paramLabel = "S", defaultValue = "fashion-mnist",
            description = "fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR (default fashion-mnist).")
    String data;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate the first N test examples (default all).")
    int testLimit;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "Batch size (default 128).")
    int batch;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Image size for zoo models on folder:DIR data.")
    String input;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (batch <= 0) throw new NetslimException("--batch must be positive, got " + batch);
        if (testLimit < 0) throw new NetslimException("--test-limit must be ≥ 0, got " + testLimit);
        DataSpec dataSpec = DataSpec.parse(data);
        Graph g = model.isFile() ? model.load(null) : null;
        Shape in = g != null ? g.inputShape() : ModelOptions.parseInputShape(input);
        if (in == null && dataSpec.kind() == DataSpec.Kind.FOLDER) in = Zoo.defaultInput(model.model);
        Dataset test = dataSpec.open(Split.TEST, testLimit, in);
        if (g == null) {
            if (model.numClasses == 0) model.numClasses = test.numClasses();
            g = model.load(in != null ? in : Shape.of(test.channels(), test.height(), test.width()));
        }
        DataChecks.check(g, model.displayName(), test);
        EvalResult r;
        long t0 = System.nanoTime();
        try (Backend b = device.open(); Evaluator ev = new Evaluator(g, b, Math.min(batch, test.size()))) {
            r = ev.evaluate(test);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        print(r, secs);
        return 0;
    }

    private void print(EvalResult r, double secs) {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(Json.write(toJson(r, model.displayName(), data, secs)));
            return;
        }
        out.printf(Locale.ROOT, "%s on %s test (%d images): top-1 %.2f%%, top-5 %.2f%%, loss %.4f (%.1f s)%n",
                model.displayName(), data, r.count(), 100 * r.top1(), 100 * r.top5(), r.loss(), secs);
        for (int c = 0; c < r.perClassAccuracy().length; c++) {
            out.printf(Locale.ROOT, "  %-14s %6.2f%%%n", r.classNames().get(c), 100 * r.perClassAccuracy()[c]);
        }
    }

    static JsonObject toJson(EvalResult r, String model, String data, double secs) {
        JsonObject o = new JsonObject();
        o.addProperty("top1", r.top1());
        o.addProperty("top5", r.top5());
        o.addProperty("loss", r.loss());
        o.addProperty("count", r.count());
        o.addProperty("model", model);
        o.addProperty("data", data);
        o.addProperty("seconds", secs);
        JsonObject perClass = new JsonObject();
        for (int c = 0; c < r.perClassAccuracy().length; c++) {
            double v = r.perClassAccuracy()[c];
            perClass.addProperty(r.classNames().get(c), Double.isNaN(v) ? null : v);
        }
        o.add("per_class", perClass);
        JsonArray confusion = new JsonArray();
        for (long[] row : r.confusion()) {
            JsonArray a = new JsonArray();
            for (long v : row) a.add(v);
            confusion.add(a);
        }
        o.add("confusion", confusion);
        return o;
    }
}
