package netslim.compress;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

import netslim.backend.Backend;
import netslim.data.Dataset;
import netslim.decompose.RankPolicy;
import netslim.decompose.Svd;
import netslim.decompose.TuckerDecomposer;
import netslim.nn.Graph;
import netslim.prune.FilterPruner;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.report.ModelStats;
import netslim.train.EvalResult;
import netslim.train.Evaluator;
import netslim.train.TrainConfig;
import netslim.train.TrainListener;
import netslim.train.TrainResult;
import netslim.train.Trainer;

/**
 * The paper's pipeline on one baseline: the stages a {@link Variant} names, in its order — <b>prune → fine-tune</b>
 * ({@link FilterPruner}, fine-tuned after each of its rounds) and <b>Tucker-2 → fine-tune</b>
 * ({@link TuckerDecomposer}) — then a measurement (top-1 / top-5 on the evaluation set, parameters and MACs). It is
 * the {@link MatchedAccuracySearch.CandidateEvaluator} of the search: every candidate starts from the same baseline
 * (never from another candidate), except that prune+tucker starts from the pruned, fine-tuned model of the same
 * ratio when the prune search already made it — the same stage with the same seed, so it is reused, not redone.
 * Every model made is kept (they are small) so the chosen ones can be saved and benchmarked without recomputing.
 */
public final class CompressionPipeline implements MatchedAccuracySearch.CandidateEvaluator {

    /**
     * How the stages run.
     *
     * @param importance  the pruning criterion
     * @param prune       pruning options; its ratio is replaced by each candidate's
     * @param hooiIters   HOOI sweeps after the HOSVD initialisation
     * @param rankFloor   rank floor fraction of the EVBMF / energy policies
     * @param rankRoundTo ranks rounded up to a multiple of this (1 = off)
     * @param svdThreads  layers decomposed at once (0 = one per core)
     * @param fineTune    fine-tuning after each stage (epochs, LR — 0.1× the training LR by default —, batch, seed);
     *                    null = no fine-tuning
     * @param calibrationImages training images that re-estimate the BatchNorm statistics after each stage
     *                    ({@link BatchNormCalibration}; 0 = off)
     * @param evalBatch   batch size of the evaluations
     */
    public record Stages(Importance importance, PruneOptions prune, int hooiIters, double rankFloor, int rankRoundTo,
                         int svdThreads, TrainConfig fineTune, int calibrationImages, int evalBatch) {
    }

    private final Graph baseline;
    private final String modelName;
    private final Stages stages;
    private final Backend backend;
    private final Dataset train, test;
    private final Svd svd;
    private final Supplier<TrainListener> progress;
    private final Consumer<String> log;
    private final Map<Double, Graph> pruned = new HashMap<>();
    private final Map<Settings, Graph> made = new HashMap<>();
    private final Map<Settings, Measurement> measured = new HashMap<>();

    /**
     * {@code train} is the fine-tuning set, {@code test} the evaluation set (normalised like {@code train});
     * {@code progress} makes a listener for each fine-tuning run (progress bars), {@code log} gets one line per stage.
     */
    public CompressionPipeline(Graph baseline, String modelName, Stages stages, Backend backend, Dataset train,
                               Dataset test, Svd svd, Supplier<TrainListener> progress, Consumer<String> log) {
        this.baseline = baseline;
        this.modelName = modelName;
        this.stages = stages;
        this.backend = backend;
        this.train = train;
        this.test = test;
        this.svd = svd;
        this.progress = progress == null ? () -> new TrainListener() { } : progress;
        this.log = log == null ? s -> { } : log;
    }

    /** Measures a model: top-1 / top-5 on the evaluation set, parameters and MACs. */
    public Measurement measure(Graph g) {
        EvalResult r;
        try (Evaluator e = new Evaluator(g, backend, Math.min(stages.evalBatch(), test.size()))) {
            r = e.evaluate(test, train.defaultNormalization());
        }
        ModelStats s = ModelStats.of(modelName, g);
        return new Measurement(r.top1(), r.top5(), s.params(), s.macs());
    }

    /**
     * Compresses the baseline with {@code settings} through the stages they name, fine-tunes, measures. The model
     * depends on the settings only, so a candidate with the settings of an earlier one (prune+tucker at ratio 0 is
     * tucker) reuses that one's model and measurement.
     */
    @Override
    public Measurement evaluate(Variant variant, Settings settings) {
        Measurement known = measured.get(settings);
        if (known != null) {
            log.accept(String.format(Locale.ROOT, "%s [%s]: the same model as an earlier point (top-1 %.2f %%), "
                    + "reused", variant.label(), settings.describe(), 100 * known.top1()));
            return known;
        }
        long t0 = System.nanoTime();
        Graph g = model(variant, settings);
        Measurement m = measure(g);
        measured.put(settings, m);
        log.accept(String.format(Locale.ROOT, "%s [%s]: top-1 %.2f %%, %,d params, %,d MACs (%.1f s)",
                variant.label(), settings.describe(), 100 * m.top1(), m.params(), m.macs(),
                (System.nanoTime() - t0) / 1e9));
        return m;
    }

    /** The fine-tuned model of {@code settings} (the variant only labels the log): the one already made, else new. */
    public Graph model(Variant variant, Settings settings) {
        Graph g = made.get(settings);
        if (g == null) {
            g = run(variant, settings);
            made.put(settings, g);
        }
        return g;
    }

    private Graph run(Variant variant, Settings s) {
        Graph g = baseline;
        if (s.prunes()) g = pruned(s.ratio());
        if (s.decomposes()) g = decompose(g, s.rank(), variant.label() + " [" + s.describe() + "]");
        return g == baseline ? baseline.copy() : g;
    }

    /** Prune → fine-tune at {@code ratio} from the baseline (fine-tuned after each round); cached by ratio. */
    private Graph pruned(double ratio) {
        Graph g = pruned.get(ratio);
        if (g != null) return g;
        PruneOptions t = stages.prune();
        PruneOptions o = new PruneOptions(ratio, t.steps(), t.perLayer(), t.floor(), t.roundTo(), t.layers());
        String label = "prune [ratio " + Settings.number(ratio) + "]";
        log.accept(label + ": ranking filters (" + stages.importance().name() + ")");
        g = new FilterPruner(o, stages.importance(), (graph, round, rounds) -> finishStage(graph,
                rounds == 1 ? label : label + " round " + round + "/" + rounds))
                .messages(m -> log.accept(label + ": " + m)).prune(baseline).graph();
        pruned.put(ratio, g);
        return g;
    }

    /** Tucker-2 → fine-tune of {@code g} (not modified) with the rank policy {@code rank}. */
    private Graph decompose(Graph g, String rank, String label) {
        RankPolicy policy = RankPolicy.parse(rank).withFloorFraction(stages.rankFloor()).withRoundTo(stages.rankRoundTo());
        long t0 = System.nanoTime();
        TuckerDecomposer.Result r = new TuckerDecomposer(new TuckerDecomposer.Options(policy, stages.hooiIters(), null,
                false, stages.svdThreads()), svd, null).decompose(g);
        long macsBefore = ModelStats.of(modelName, g).macs(), macsAfter = ModelStats.of(modelName, r.graph()).macs();
        log.accept(String.format(Locale.ROOT, "%s: Tucker-2 replaced %d of %d convs, MACs %,d -> %,d (%.1f s)", label,
                r.replacedCount(), r.layers().size(), macsBefore, macsAfter, (System.nanoTime() - t0) / 1e9));
        return finishStage(r.graph(), label);
    }

    /** After a stage: fine-tune (when configured), then re-estimate the BatchNorm statistics (when configured). */
    private Graph finishStage(Graph g, String label) {
        fineTune(g, label);
        if (stages.calibrationImages() > 0) {
            long t0 = System.nanoTime();
            int n = BatchNormCalibration.recalibrate(g, backend, train, stages.evalBatch(), stages.calibrationImages());
            if (n > 0) {
                log.accept(String.format(Locale.ROOT, "%s: BatchNorm statistics re-estimated on %d images (%.1f s)",
                        label, n, (System.nanoTime() - t0) / 1e9));
            }
        }
        return g;
    }

    /** Fine-tunes {@code g} in place (no-op without fine-tuning settings). */
    private void fineTune(Graph g, String label) {
        TrainConfig c = stages.fineTune();
        if (c == null) return;
        log.accept(String.format(Locale.ROOT, "%s: fine-tuning %d epoch(s) on %d images, lr %s", label, c.epochs(),
                train.size(), Settings.number(c.lr())));
        try (Trainer t = new Trainer(g, modelName + " " + label, backend, train, null, c,
                Map.of("command", "compress"))) {
            TrainResult r = t.listener(progress.get()).train();
            List<netslim.train.EpochMetrics> h = r.history();
            log.accept(String.format(Locale.ROOT, "%s: fine-tuned in %.1f s, last train loss %.4f", label,
                    r.seconds(), h.get(h.size() - 1).trainLoss()));
        }
    }
}
