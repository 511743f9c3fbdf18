package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

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
import netslim.train.Checkpoint;
import netslim.train.EpochMetrics;
import netslim.train.TrainConfig;
import netslim.train.TrainResult;
import netslim.train.Trainer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * What {@code train} and {@code finetune} do: check the output path, open the data, build or load the model (or
 * the checkpoint to resume), check the data fits it, train with progress on stderr and a Ctrl-C hook, then print
 * the summary (text, or one JSON object with --json).
 */
final class TrainingRun {
    /** The two commands differ in their default LR and in what --model may be. */
    enum Kind {
        TRAIN("train", 0.1), FINETUNE("finetune", 0.01);

        final String command;
        final double defaultLr;

        Kind(String command, double defaultLr) {
            this.command = command;
            this.defaultLr = defaultLr;
        }
    }

    /** Exit status after a Ctrl-C that stopped training cleanly (128 + SIGINT, as shells report it). */
    static final int INTERRUPTED = 130;

    /** Options that a resumed run may not change, with the config field each one sets. */
    private static final Map<String, Function<TrainConfig, Object>> FIXED_ON_RESUME = fixedOnResume();

    private final Kind kind;
    private final ModelOptions model;
    private final DeviceOptions device;
    private final TrainingOptions opts;
    private final CommandSpec spec;
    private final PrintWriter err;

    TrainingRun(Kind kind, ModelOptions model, DeviceOptions device, TrainingOptions opts, CommandSpec spec) {
        this.kind = kind;
        this.model = model;
        this.device = device;
        this.opts = opts;
        this.spec = spec;
        this.err = spec.commandLine().getErr();
    }

    int execute() {
        opts.checkOutput();
        DataSpec data = DataSpec.parse(opts.data);
        if (kind == Kind.FINETUNE && !model.isFile()) {
            throw new NetslimException("finetune needs a model file (.nsm or .onnx), got '" + model.model
                    + "'; use train for zoo models");
        }
        boolean resuming = opts.resume && Files.exists(opts.out);
        if (opts.resume && !resuming) err.println("netslim: --resume: " + opts.out + " does not exist yet; starting a new run");
        Checkpoint.Loaded ck = resuming ? Checkpoint.load(opts.out) : null;
        Graph g = ck != null ? ck.graph() : model.isFile() ? model.load(null) : null;
        Shape input = g != null ? g.inputShape() : ModelOptions.parseInputShape(opts.input);
        if (input == null && data.kind() == DataSpec.Kind.FOLDER) input = Zoo.defaultInput(model.model);
        Dataset train = data.open(Split.TRAIN, opts.trainLimit, input);
        Dataset test = data.open(Split.TEST, opts.testLimit, input);
        if (g == null) g = buildZoo(train, input);
        OutputPaths.requireSpace(opts.out, OutputPaths.modelBytes(g, 2), "--out"); // weights and momentum buffers
        TrainConfig config = opts.config(kind.defaultLr, model.seed, train.height(), train.width());
        Map<String, String> run = describe(data);
        if (ck != null) {
            checkResume(ck, config, run);
            config = ck.state().config();
        }
        try (Backend backend = device.open();
             Trainer trainer = new Trainer(g, model.displayName(), backend, train, test, config, run)) {
            if (ck != null) trainer.resume(ck, opts.out.toString());
            ProgressReporter progress = new ProgressReporter(err);
            trainer.listener(progress).checkpointTo(opts.out);
            err.println(header(g, backend, train, test, config, trainer, ck));
            err.flush();
            try (StopOnSignal stop = new StopOnSignal(trainer)) {
                try {
                    return trainAndReport(trainer, progress, g);
                } catch (RuntimeException | Error e) {
                    // After a signal the JVM exits as soon as the hook is released: report before releasing it.
                    if (!stop.fired()) throw e;
                    return Main.handle(e, err);
                }
            }
        }
    }

    private int trainAndReport(Trainer trainer, ProgressReporter progress, Graph g) {
        TrainResult r;
        try {
            r = trainer.train();
        } finally {
            progress.closeBar();
        }
        if (r.stopped()) {
            err.println("netslim: stopped at " + where(r) + "; checkpoint written to " + opts.out
                    + " (continue with the same command and --resume)");
            err.flush();
            return INTERRUPTED;
        }
        printSummary(r, g);
        return 0;
    }

    private Graph buildZoo(Dataset train, Shape input) {
        Shape images = Shape.of(train.channels(), train.height(), train.width());
        if (model.numClasses == 0) model.numClasses = train.numClasses();
        return model.load(input != null ? input : images);
    }

    /** The run's identity, saved in the checkpoint and compared on resume. */
    private Map<String, String> describe(DataSpec data) {
        Map<String, String> run = new LinkedHashMap<>();
        run.put("command", kind.command);
        run.put("model", model.model);
        run.put("data", data.toString());
        run.put("train_limit", Integer.toString(opts.trainLimit));
        if (!model.isFile()) run.put("width", Double.toString(model.width));
        return run;
    }

    /** A resumed run keeps its data and settings: explicitly given options must agree with the checkpoint. */
    private void checkResume(Checkpoint.Loaded ck, TrainConfig cli, Map<String, String> run) {
        Map<String, String> saved = ck.state().run();
        for (String key : List.of("model", "data", "train_limit")) {
            if (saved.containsKey(key) && !saved.get(key).equals(run.get(key))) {
                throw new NetslimException("--resume: " + opts.out + " was trained with " + key.replace('_', '-') + " "
                        + saved.get(key) + ", not " + run.get(key));
            }
        }
        ParseResult parsed = spec.commandLine().getParseResult();
        TrainConfig was = ck.state().config();
        for (Map.Entry<String, Function<TrainConfig, Object>> e : FIXED_ON_RESUME.entrySet()) {
            Object now = e.getValue().apply(cli), before = e.getValue().apply(was);
            if (parsed.hasMatchedOption(e.getKey()) && !Objects.equals(now, before)) {
                throw new NetslimException("--resume: " + e.getKey() + " " + now + " differs from the checkpoint's "
                        + before + " (a resumed run keeps its settings; use another --out for a new run)");
            }
        }
    }

    private static Map<String, Function<TrainConfig, Object>> fixedOnResume() {
        Map<String, Function<TrainConfig, Object>> m = new LinkedHashMap<>();
        m.put("--epochs", TrainConfig::epochs);
        m.put("--batch", TrainConfig::batchSize);
        m.put("--lr", TrainConfig::lr);
        m.put("--momentum", TrainConfig::momentum);
        m.put("--nesterov", TrainConfig::nesterov);
        m.put("--wd", TrainConfig::weightDecay);
        m.put("--wd-all", TrainConfig::decayNormAndBias);
        m.put("--schedule", TrainConfig::schedule);
        m.put("--warmup-epochs", TrainConfig::warmupEpochs);
        m.put("--milestones", TrainConfig::milestones);
        m.put("--gamma", TrainConfig::gamma);
        m.put("--label-smoothing", TrainConfig::labelSmoothing);
        m.put("--seed", TrainConfig::seed);
        m.put("--augment", c -> Objects.toString(c.augmentation(), "default"));
        return m;
    }

    private String header(Graph g, Backend b, Dataset train, Dataset test, TrainConfig c, Trainer t,
            Checkpoint.Loaded ck) {
        String from = ck == null ? "" : "; resuming " + opts.out + " at " + where(ck.state().epoch(),
                ck.state().stepInEpoch(), c.epochs());
        return String.format(Locale.ROOT,
                "netslim: %s %s (%,d parameters) on %s: %d train / %d test images, %d batches of %d per epoch, "
                        + "%d epoch%s, lr %s %s%s, momentum %s%s, wd %s%s; %s%s",
                kind.command, model.displayName(), Zoo.parameterCount(g), opts.data, train.size(), test.size(),
                t.batchesPerEpoch(), c.batchSize(), c.epochs(), c.epochs() == 1 ? "" : "s", num(c.lr()), c.schedule(),
                c.warmupEpochs() > 0 ? " (warm-up " + num(c.warmupEpochs()) + " epochs)" : "", num(c.momentum()),
                c.nesterov() ? " nesterov" : "", num(c.weightDecay()),
                c.labelSmoothing() > 0 ? ", label smoothing " + num(c.labelSmoothing()) : "", b, from);
    }

    /** A setting as a person writes it: 0.1, 0.0005, 5 (at most 4 significant digits). */
    static String num(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String where(TrainResult r) {
        return where(r.state().epoch(), r.state().stepInEpoch(), r.state().config().epochs());
    }

    private static String where(int epoch, int step, int epochs) {
        if (epoch >= epochs) return "the end (all " + epochs + " epochs done)";
        if (step == 0) return "the start of epoch " + (epoch + 1) + "/" + epochs;
        return "epoch " + (epoch + 1) + "/" + epochs + ", step " + step;
    }

    private void printSummary(TrainResult r, Graph g) {
        PrintWriter out = spec.commandLine().getOut();
        List<EpochMetrics> h = r.history();
        EpochMetrics last = h.isEmpty() ? null : h.get(h.size() - 1);
        if (opts.json) {
            JsonObject o = new JsonObject();
            o.addProperty("top1", r.test().top1());
            o.addProperty("top5", r.test().top5());
            o.addProperty("loss", r.test().loss());
            o.addProperty("epochs", r.state().epoch());
            o.addProperty("seconds", r.seconds());
            o.addProperty("images_per_s", r.imagesPerS());
            o.addProperty("train_loss", last == null ? null : last.trainLoss());
            o.addProperty("train_accuracy", last == null ? null : last.trainAccuracy());
            o.addProperty("model", model.displayName());
            o.addProperty("params", Zoo.parameterCount(g));
            o.addProperty("data", opts.data);
            o.addProperty("test_examples", r.test().count());
            o.addProperty("out", opts.out.toString());
            o.add("history", history(h));
            out.println(Json.write(o));
        } else {
            out.printf(Locale.ROOT, "%s: %d epochs, test top-1 %.2f%% (top-5 %.2f%%, loss %.4f) on %d images; "
                    + "%.1f s, %.0f images/s; saved %s%n", model.displayName(), r.state().epoch(),
                    100 * r.test().top1(), 100 * r.test().top5(), r.test().loss(), r.test().count(), r.seconds(),
                    r.imagesPerS(), opts.out);
        }
        out.flush();
    }

    static JsonArray history(List<EpochMetrics> h) {
        JsonArray a = new JsonArray();
        for (EpochMetrics m : h) {
            JsonObject e = new JsonObject();
            e.addProperty("epoch", m.epoch());
            e.addProperty("train_loss", m.trainLoss());
            e.addProperty("train_accuracy", m.trainAccuracy());
            e.addProperty("test_top1", m.testTop1());
            e.addProperty("test_top5", m.testTop5());
            e.addProperty("test_loss", m.testLoss());
            e.addProperty("lr", m.lr());
            e.addProperty("seconds", m.seconds());
            e.addProperty("images_per_s", m.imagesPerS());
            a.add(e);
        }
        return a;
    }
}
