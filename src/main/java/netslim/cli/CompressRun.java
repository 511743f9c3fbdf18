package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import netslim.backend.Backend;
import netslim.compress.CompressionPipeline;
import netslim.compress.MatchedAccuracySearch;
import netslim.compress.Measurement;
import netslim.compress.SearchPoint;
import netslim.compress.Settings;
import netslim.compress.Variant;
import netslim.data.Dataset;
import netslim.decompose.Svd;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.report.Bench;
import netslim.report.CompressionReport;
import netslim.train.TrainConfig;

/**
 * What {@code compress} (and the demo's compression step) does once its options are checked and its data is open:
 * measure the baseline, run the search ({@code all}) or the one pipeline with the given settings, save each variant's
 * model into the report directory, benchmark every model at batch 1 and 32, and write the report.
 */
final class CompressRun {

    /**
     * A run's settings.
     *
     * @param pipeline    the --pipeline value
     * @param variants    the variants it produces
     * @param single      the settings of a single pipeline; null for {@code all} (searched)
     * @param search      budget and bounds of the search (its max-drop also judges a single pipeline)
     * @param stages      how the stages run
     * @param benchIters  timed iterations per latency measurement
     * @param reportDir   the report directory (already checked writable)
     * @param out         where the chosen model goes (may be null)
     */
    record Plan(String pipeline, List<Variant> variants, Settings single, MatchedAccuracySearch.Options search,
                CompressionPipeline.Stages stages, int benchIters, Path reportDir, Path out) {
    }

    /**
     * Warm-up before the latency measurements: at batch 1 at least 10 passes and about a second of them (at most
     * 300) per model, then interleaved rounds ({@link #benchmark}): the session-5 demo, timing each model in turn
     * right after its warm-up, timed its first model, the baseline, at 12.1 ms after 2 passes, 8.9 after 10 and 7.1
     * after a second of them, against 4.3 ms in steady state (a variant with 1.06x fewer MACs: 3.7 and 4.2 ms).
     * At batch 32 likewise about a second, at least 2 passes. The cap (passes) holds at both sizes.
     */
    static final int BENCH_WARMUP_B1 = 10, BENCH_WARMUP_B32 = 2, BENCH_WARMUP_MAX = 300;
    static final double BENCH_WARMUP_MS = 1000;
    /**
     * Interleaved rounds of the timings at each batch size ({@link #benchmark}): five, since with three one model of
     * the session-19 demo came out at 2.25 and 2.88 ms at batch 1 in the same run (the same model, reported twice).
     */
    static final int BENCH_ROUNDS = 5;
    /**
     * A round times a model for at least --bench-iters passes and about this long (at most
     * {@link #BENCH_WARMUP_MAX} passes): at batch 1 five passes of ~2.5 ms fit inside one burst of the JIT's
     * compiler threads on a 2-core machine, which then slowed a whole round 2–3x (session 9: two demos reported the
     * tucker variant at 4.19 ms, then 2.18, against the file's 2.2–2.4 in `bench`); ~40 passes outlast one.
     */
    static final double BENCH_ROUND_MS = 100;

    private final Plan plan;
    private final PrintWriter err;

    CompressRun(Plan plan, PrintWriter err) {
        this.plan = plan;
        this.err = err;
    }

    void log(String line) {
        err.println("netslim: " + line);
        err.flush();
    }

    /**
     * Runs everything and writes the report; {@code baselineFile} is shown as the baseline's file (may be null);
     * {@code measured} is the baseline's measurement on {@code test} when the caller already made it (else null).
     */
    CompressionReport execute(Graph baseline, String modelName, String dataName, String baselineFile, Backend backend,
                              Dataset train, Dataset test, Measurement measured) {
        long t0 = System.nanoTime();
        CompressionPipeline pipeline = new CompressionPipeline(baseline, modelName, plan.stages(), backend, train, test,
                Svd.forDevice("cpu"), () -> new ProgressReporter(err), this::log);
        log(String.format(Locale.ROOT, "compress %s: pipeline %s on %s, backend %s; evaluating the baseline on %d "
                + "test images", modelName, plan.pipeline(), dataName, backend, test.size()));
        Measurement base = measured != null ? measured : pipeline.measure(baseline);
        double floor = base.top1() - plan.search().maxDropPoints() / 100;
        log(String.format(Locale.ROOT, "baseline: top-1 %.2f %%, %,d params, %,d MACs; floor (baseline - %s points) "
                + "%.2f %%", 100 * base.top1(), base.params(), base.macs(), Settings.number(plan.search()
                .maxDropPoints()), 100 * floor));
        MatchedAccuracySearch.Result result = plan.single() == null ? search(pipeline, base)
                : single(pipeline, base.top1(), floor);
        List<String> notes = new ArrayList<>(result.notes().values());
        List<Pending> pending = new ArrayList<>();
        pending.add(new Pending("baseline", Settings.prune(0), base, null, baselineFile, baseline));
        Map<Variant, Graph> models = new EnumMap<>(Variant.class);
        for (Variant v : plan.variants()) {
            Optional<SearchPoint> p = result.bestEffort(v);
            if (p.isEmpty()) continue;
            boolean within = result.chosen(v).isPresent();
            if (!within) {
                notes.add(plan.single() != null ? String.format(Locale.ROOT, "%s: top-1 %.2f %% is below the floor "
                        + "%.2f %% (baseline - max-drop)", v.label(), 100 * p.get().top1(), 100 * floor)
                        : v.label() + ": no point reached the floor; shown is the most accurate point tried");
                log("warning: " + notes.get(notes.size() - 1));
            }
            Graph g = pipeline.model(v, p.get().settings());
            models.put(v, g);
            Path file = plan.reportDir().resolve(v.label() + ".nsm");
            Nsm.save(g, file);
            pending.add(new Pending(v.label(), p.get().settings(), p.get().measurement(), within, file.toString(), g));
        }
        saveOut(models);
        Map<String, CompressionReport.Latency> latency = benchmark(pending, backend);
        List<CompressionReport.Entry> entries = new ArrayList<>();
        for (Pending e : pending) {
            entries.add(new CompressionReport.Entry(e.name(), e.settings().ratio(), e.settings().rank(),
                    e.name().equals("baseline") ? "-" : e.settings().describe(), e.m().top1(), e.m().top5(),
                    e.m().params(), e.m().macs(), latency.get(e.name()), e.within(), e.file(),
                    CompressionReport.layerRows(baseline, e.graph())));
        }
        CompressionReport report = new CompressionReport(runInfo(modelName, dataName, backend, train, test, floor,
                (System.nanoTime() - t0) / 1e9, notes), entries, points(result));
        report.write(plan.reportDir());
        log("wrote " + plan.reportDir().resolve(CompressionReport.JSON) + ", " + CompressionReport.MARKDOWN + ", "
                + CompressionReport.PARETO + ", " + CompressionReport.LAYERS);
        return report;
    }

    private MatchedAccuracySearch.Result search(CompressionPipeline pipeline, Measurement base) {
        MatchedAccuracySearch s = new MatchedAccuracySearch(plan.search(), pipeline, p -> log(String.format(
                Locale.ROOT, "search point %d: %s [%s]: top-1 %.2f %% -> %s", p.index(), p.variant().label(),
                p.settings().describe(), 100 * p.top1(), p.accepted() ? "within budget" : "below the floor")),
                this::log);
        return s.run(base.top1(), plan.variants());
    }

    /** One pipeline with the given settings, judged against the same floor (no search). */
    private MatchedAccuracySearch.Result single(CompressionPipeline pipeline, double baseTop1, double floor) {
        Variant v = plan.variants().get(0);
        Measurement m = pipeline.evaluate(v, plan.single());
        SearchPoint p = new SearchPoint(1, v, plan.single(), m, m.top1() >= floor - 1e-12);
        Map<Variant, SearchPoint> chosen = new EnumMap<>(Variant.class);
        if (p.accepted()) chosen.put(v, p);
        return new MatchedAccuracySearch.Result(baseTop1, floor, List.of(p), chosen, Map.of());
    }

    /** A report row before its latency is measured. */
    private record Pending(String name, Settings settings, Measurement m, Boolean within, String file, Graph graph) {
    }

    /**
     * Latency of every model at batch 1 and 32. Both are JIT- and order-sensitive: at each batch size every model is
     * first warmed up (about a second each, at least {@link #BENCH_WARMUP_B1} passes at batch 1 and
     * {@link #BENCH_WARMUP_B32} at batch 32), then all are timed in {@link #BENCH_ROUNDS} interleaved rounds, each
     * round in a rotated order, and a model's latency is the median of its rounds' medians — so no model is timed
     * while the JIT is still busy with code the others warmed up, and a slow moment of the machine hits all models
     * alike. (Batch 32 once kept one measurement per model right after 2 warm-up passes, baseline first: in session
     * 6's demo the baseline came out at 124 ms against 72 ms for a variant with 1.26x fewer MACs.) Rows that are
     * the same model (prune+tucker at ratio 0 is the tucker variant's model) are timed once and share the figures.
     */
    private Map<String, CompressionReport.Latency> benchmark(List<Pending> models, Backend backend) {
        List<Pending> distinct = firstOfEach(models, Pending::graph);
        log("benchmarking " + models.size() + " models" + (distinct.size() < models.size() ? " (" + distinct.size()
                + " distinct: rows of the same model share its timings)" : "") + " at batch 1 and 32 ("
                + BENCH_ROUNDS + " interleaved rounds of at least " + plan.benchIters() + " passes and ~"
                + (int) BENCH_ROUND_MS + " ms each)");
        Map<String, Double> b1 = timeAll(distinct, backend, 1, BENCH_WARMUP_B1);
        Map<String, Double> b32 = timeAll(distinct, backend, 32, BENCH_WARMUP_B32);
        Map<Graph, String> timed = new java.util.IdentityHashMap<>(); // each model's timed row
        for (Pending d : distinct) timed.put(d.graph(), d.name());
        Map<String, CompressionReport.Latency> out = new java.util.HashMap<>();
        for (Pending e : models) {
            String t = timed.get(e.graph());
            out.put(e.name(), new CompressionReport.Latency(backend.name(), b1.get(t), b32.get(t)));
        }
        return out;
    }

    /**
     * The first of the rows of each model, in order; models compared by identity (the pipeline hands out one Graph
     * per settings, and two graphs with equal weights made separately are still timed separately).
     */
    static <T> List<T> firstOfEach(List<T> rows, java.util.function.Function<T, ?> model) {
        List<T> out = new ArrayList<>();
        for (T e : rows) {
            if (out.stream().noneMatch(d -> model.apply(d) == model.apply(e))) out.add(e);
        }
        return out;
    }

    /** Every model's median latency at one batch size: warm-up of each, then interleaved, rotated rounds. */
    private Map<String, Double> timeAll(List<Pending> models, Backend backend, int batch, int minWarmup) {
        Map<String, Integer> passes = new java.util.HashMap<>();
        for (Pending e : models) {
            double once = Bench.run(e.name(), e.graph(), backend, batch, 0, 1, x -> { }).medianMs(); // sizes the warm-up
            int warmup = (int) Math.max(minWarmup,
                    Math.min(BENCH_WARMUP_MAX, Math.ceil(BENCH_WARMUP_MS / Math.max(once, 0.01))));
            double warm = Bench.run(e.name(), e.graph(), backend, batch, warmup, 1, x -> { }).medianMs();
            passes.put(e.name(), (int) Math.max(plan.benchIters(),
                    Math.min(BENCH_WARMUP_MAX, Math.ceil(BENCH_ROUND_MS / Math.max(warm, 0.01)))));
        }
        Map<String, double[]> rounds = new java.util.HashMap<>();
        for (int r = 0; r < BENCH_ROUNDS; r++) {
            for (int k = 0; k < models.size(); k++) {
                Pending e = models.get((k + r) % models.size());
                rounds.computeIfAbsent(e.name(), key -> new double[BENCH_ROUNDS])[r] =
                        Bench.run(e.name(), e.graph(), backend, batch, 1, passes.get(e.name()), x -> { }).medianMs();
            }
        }
        Map<String, Double> out = new java.util.HashMap<>();
        for (Pending e : models) {
            double[] m = rounds.get(e.name()); // this model's round medians, sorted for their median
            java.util.Arrays.sort(m);
            out.put(e.name(), m[m.length / 2]);
        }
        return out;
    }

    /** --out: the single pipeline's model, or for {@code all} the prune+tucker one. */
    private void saveOut(Map<Variant, Graph> models) {
        if (plan.out() == null) return;
        Variant v = plan.variants().contains(Variant.PRUNE_TUCKER) ? Variant.PRUNE_TUCKER : plan.variants().get(0);
        Graph g = models.get(v);
        if (g == null) return;
        Nsm.save(g, plan.out());
        log("wrote " + plan.out() + " (" + v.label() + ")");
    }

    private List<CompressionReport.Point> points(MatchedAccuracySearch.Result r) {
        if (plan.single() != null) return List.of(); // no search: the one point is the variant's entry
        List<CompressionReport.Point> out = new ArrayList<>();
        for (SearchPoint p : r.points()) {
            boolean chosen = r.chosen(p.variant()).map(c -> c == p).orElse(false);
            out.add(new CompressionReport.Point(p.index(), p.variant().label(), p.settings().ratio(),
                    p.settings().rank(), p.top1(), p.measurement().top5(), p.params(), p.macs(), p.accepted(), chosen));
        }
        return out;
    }

    private CompressionReport.Run runInfo(String modelName, String dataName, Backend backend, Dataset train,
                                          Dataset test, double floor, double seconds, List<String> notes) {
        TrainConfig c = plan.stages().fineTune();
        String ft = c == null ? "none" : String.format(Locale.ROOT, "%d epoch(s), lr %s cosine, batch %d, momentum %s"
                + " nesterov, wd %s", c.epochs(), Settings.number(c.lr()), c.batchSize(), Settings.number(c.momentum()),
                Settings.number(c.weightDecay()));
        return new CompressionReport.Run(modelName, dataName, plan.pipeline(), backend.toString(), test.size(),
                train.size(), ft, plan.stages().importance().name(), plan.search().maxDropPoints(), floor,
                plan.search().steps(), seconds, notes);
    }
}
