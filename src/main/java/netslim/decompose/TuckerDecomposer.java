package netslim.decompose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Graph → Graph rewrite: every selected, eligible Conv2d W (T, S, kh, kw) becomes the Tucker-2 chain
 * <pre>
 *   name.tucker_in    1x1  S → R3, weight Vᵀ, no bias
 *   name.tucker_core  kh×kw R3 → R4, weight G, the original stride, padding and dilation, no bias
 *   name              1x1  R4 → T, weight U, the original bias if it has one
 * </pre>
 * R4 is chosen from the mode-0 unfolding's spectrum and R3 from the mode-1 unfolding's by the {@link RankPolicy}.
 * Eligible: groups = 1, kh·kw > 1, and the chain is cheaper — S·R3 + R3·R4·kh·kw + R4·T &lt; S·T·kh·kw per output
 * position, and also in MACs at the layer's real geometry (with stride &gt; 1 the first 1x1 runs on the larger input).
 * 1x1 convs are skipped unless {@link Options#pointwise()}: then they become a low-rank pair
 * ({@code name.lowrank_in} S → R with the original stride, {@code name} R → T) when R·(S + T) &lt; S·T.
 * Every replaced layer is recorded in {@code Graph.metadata()} under {@value #METADATA_KEY} (see
 * {@link TuckerMetadata}); earlier records are kept. The input graph is not modified.
 */
public final class TuckerDecomposer {
    public static final String METADATA_KEY = TuckerMetadata.KEY;

    /**
     * Rank policy, HOOI sweep cap, {@code --layers} globs (null: every conv), whether 1x1 convs are factored as
     * low-rank matrices (off by default), and how many layers are decomposed at once ({@code threads}; 0 = one per
     * core). Layers are independent, so the result does not depend on the thread count.
     */
    public record Options(RankPolicy policy, int hooiIters, String layers, boolean pointwise, int threads) {
        public Options {
            if (policy == null) throw new IllegalArgumentException("rank policy is required");
            if (hooiIters < 0) throw new NetslimException("--hooi-iters must be ≥ 0, got " + hooiIters);
            if (threads < 0) throw new NetslimException("--threads must be ≥ 0, got " + threads);
        }

        /** One thread per core. */
        public Options(RankPolicy policy, int hooiIters, String layers, boolean pointwise) {
            this(policy, hooiIters, layers, pointwise, 0);
        }
    }

    /** The rewritten graph and one report per selected Conv2d, in graph order. */
    public record Result(Graph graph, List<LayerReport> layers) {
        public long replacedCount() {
            return layers.stream().filter(LayerReport::replaced).count();
        }
    }

    private final Options options;
    private final Tucker2 tucker;
    private final Svd svd;
    private final Consumer<String> progress;

    public TuckerDecomposer(Options options, Svd svd, Consumer<String> progress) {
        this.options = options;
        this.svd = svd;
        this.tucker = new Tucker2(svd);
        this.progress = progress == null ? s -> { } : progress;
    }

    public TuckerDecomposer(Options options) {
        this(options, new EjmlSvd(), null);
    }

    public Result decompose(Graph g) {
        LayerGlob glob = LayerGlob.parse(options.layers());
        List<Node> selected = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.layer() instanceof Layer.Conv2d && glob.matches(n.name())) selected.add(n);
        }
        if (selected.isEmpty()) {
            throw new NetslimException(glob.selectsAll() ? "the model has no Conv2d layer to decompose"
                    : "--layers '" + glob + "' matches no Conv2d node");
        }
        Map<String, Shape> shapes = g.shapes(1);
        List<Rewrite> rewrites = rewriteAll(g, selected, shapes);
        Map<String, Replacement> replacements = new HashMap<>();
        List<LayerReport> reports = new ArrayList<>();
        for (Rewrite r : rewrites) {
            reports.add(r.report());
            if (r.replacement() != null) replacements.put(r.report().name(), r.replacement());
        }
        Graph out = rebuild(g, replacements);
        List<LayerReport> replaced = reports.stream().filter(LayerReport::replaced).toList();
        if (!replaced.isEmpty()) {
            out.metadata().put(METADATA_KEY,
                    TuckerMetadata.merge(g.metadata().get(METADATA_KEY), replaced, options.policy()));
        }
        return new Result(out, reports);
    }

    /** Rewrites the selected convs on a pool of threads; results in graph order, progress as layers finish. */
    private List<Rewrite> rewriteAll(Graph g, List<Node> selected, Map<String, Shape> shapes) {
        int threads = Math.min(selected.size(),
                options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "netslim-decompose");
            t.setDaemon(true);
            return t;
        });
        AtomicInteger done = new AtomicInteger();
        try {
            List<Future<Rewrite>> futures = new ArrayList<>();
            for (Node n : selected) {
                futures.add(pool.submit(() -> {
                    long start = System.nanoTime();
                    Rewrite r = rewrite(n, shapes.get(n.inputs().get(0)), shapes.get(n.name()), g.params());
                    Rewrite timed = new Rewrite(r.replacement(), r.report().withSeconds(seconds(start)));
                    String line = progressLine(done.incrementAndGet(), selected.size(), timed.report());
                    synchronized (progress) {
                        progress.accept(line);
                    }
                    return timed;
                }));
            }
            List<Rewrite> out = new ArrayList<>();
            for (Future<Rewrite> f : futures) out.add(f.get());
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetslimException("decomposition interrupted");
        } finally {
            pool.shutdownNow();
        }
    }

    /** A layer's outcome: its replacement (null when skipped) and its report. */
    private record Rewrite(Replacement replacement, LayerReport report) {
    }

    private Rewrite rewrite(Node n, Shape in, Shape out, ParamStore params) {
        Layer.Conv2d conv = (Layer.Conv2d) n.layer();
        ConvSpec s = conv.spec();
        Tensor weight = params.get(n.name() + ".weight");
        Tensor bias = conv.bias() ? params.get(n.name() + ".bias") : null;
        long macs = Replacement.macs(s, out), p = Replacement.params(s, conv.bias());
        for (float v : weight.toArray()) {
            if (!Float.isFinite(v)) {
                throw new NetslimException("layer " + n.name()
                        + ": weight has NaN or infinite values; cannot decompose");
            }
        }
        if (s.groups() != 1) {
            return skip(n, weight, macs, p, "grouped conv (groups=" + s.groups() + ")");
        }
        if (s.kh() * s.kw() == 1) {
            if (!options.pointwise()) return skip(n, weight, macs, p, "1x1 conv (factor with --pointwise)");
            return pointwise(n, s, weight, bias, out, macs, p);
        }
        return tucker2(n, s, weight, bias, in, out, macs, p);
    }

    private static Rewrite skip(Node n, Tensor weight, long macs, long params, String reason) {
        return new Rewrite(null, LayerReport.skipped(n.name(), weight.shape(), macs, params, reason, null, null, 0, 0));
    }

    private Rewrite tucker2(Node n, ConvSpec s, Tensor weight, Tensor bias, Shape in, Shape out, long macs, long p) {
        int t = s.outChannels(), c = s.inChannels(), k = s.kh() * s.kw();
        Tucker2.Spectra spectra = tucker.spectra(weight);
        RankPolicy.Choice cin = options.policy().choose(RankPolicy.Side.IN, spectra.inSingularValues(), c, t * k);
        RankPolicy.Choice cout = options.policy().choose(RankPolicy.Side.OUT, spectra.outSingularValues(), t, c * k);
        // Tucker ranks also obey R4 ≤ R3·k and R3 ≤ R4·k (each mode rank ≤ the product of the others).
        int r3 = cin.rank(), r4 = Math.min(cout.rank(), r3 * k);
        r3 = Math.min(r3, r4 * k);
        ConvSpec inSpec = Replacement.pointwise(c, r3, 1, 1);
        ConvSpec coreSpec = new ConvSpec(r3, r4, s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(),
                s.dilationH(), s.dilationW(), 1);
        ConvSpec outSpec = Replacement.pointwise(r4, t, 1, 1);
        long perPosition = (long) c * r3 + (long) r3 * r4 * k + (long) r4 * t;
        long macsAfter = Replacement.macs(inSpec, in) + Replacement.macs(coreSpec, out)
                + Replacement.macs(outSpec, out);
        if (perPosition >= (long) c * t * k || macsAfter >= macs) {
            String reason = String.format(Locale.ROOT, "factored MACs not smaller at ranks [%d, %d] (%,d vs %,d)",
                    r3, r4, macsAfter, macs);
            return new Rewrite(null, LayerReport.skipped(n.name(), weight.shape(), macs, p, reason, cin, cout, r3, r4));
        }
        Tucker2.Result f = tucker.decompose(weight, spectra, r3, r4, options.hooiIters());
        String name = n.name(), inName = name + ".tucker_in", coreName = name + ".tucker_core";
        List<Node> nodes = List.of(
                Replacement.conv(inName, inSpec, false, n.inputs().get(0)),
                Replacement.conv(coreName, coreSpec, false, inName),
                Replacement.conv(name, outSpec, bias != null, coreName));
        Map<String, Tensor> tensors = new HashMap<>();
        tensors.put(inName + ".weight", f.inWeight());
        tensors.put(coreName + ".weight", f.coreWeight());
        tensors.put(name + ".weight", f.outWeight());
        if (bias != null) tensors.put(name + ".bias", bias.copy());
        long paramsAfter = Replacement.params(inSpec, false) + Replacement.params(coreSpec, false)
                + Replacement.params(outSpec, bias != null);
        return new Rewrite(new Replacement(nodes, tensors), new LayerReport(name, LayerReport.Status.TUCKER2,
                weight.shape(), r3, r4, cin, cout, f.relError(), f.hosvdRelError(), f.hooiSweeps(), macs, macsAfter,
                p, paramsAfter, null, 0));
    }

    private Rewrite pointwise(Node n, ConvSpec s, Tensor weight, Tensor bias, Shape out, long macs, long p) {
        PointwiseLowRank.Factors f = PointwiseLowRank.factor(svd, options.policy(), weight);
        int r = f.rank(), c = s.inChannels(), t = s.outChannels();
        ConvSpec inSpec = new ConvSpec(c, r, 1, 1, s.strideH(), s.strideW(), s.padH(), s.padW(), 1, 1, 1);
        ConvSpec outSpec = Replacement.pointwise(r, t, 1, 1);
        long macsAfter = Replacement.macs(inSpec, out) + Replacement.macs(outSpec, out);
        if ((long) r * (c + t) >= (long) c * t) {
            String reason = String.format(Locale.ROOT, "factored MACs not smaller at rank %d (%,d vs %,d)", r,
                    macsAfter, macs);
            return new Rewrite(null, LayerReport.skipped(n.name(), weight.shape(), macs, p, reason, null, f.choice(),
                    r, r));
        }
        String name = n.name(), inName = name + ".lowrank_in";
        List<Node> nodes = List.of(Replacement.conv(inName, inSpec, false, n.inputs().get(0)),
                Replacement.conv(name, outSpec, bias != null, inName));
        Map<String, Tensor> tensors = new HashMap<>();
        tensors.put(inName + ".weight", f.inWeight());
        tensors.put(name + ".weight", f.outWeight());
        if (bias != null) tensors.put(name + ".bias", bias.copy());
        long paramsAfter = Replacement.params(inSpec, false) + Replacement.params(outSpec, bias != null);
        return new Rewrite(new Replacement(nodes, tensors), new LayerReport(name, LayerReport.Status.LOW_RANK,
                weight.shape(), r, r, null, f.choice(), f.relError(), f.relError(), 0, macs, macsAfter, p,
                paramsAfter, null, 0));
    }

    /** The graph with each replaced conv's node swapped for its chain; every other tensor copied. */
    private static Graph rebuild(Graph g, Map<String, Replacement> replacements) {
        Set<String> existing = new HashSet<>();
        for (Node n : g.nodes()) existing.add(n.name());
        List<Node> nodes = new ArrayList<>();
        Map<String, Tensor> fresh = new HashMap<>();
        for (Node n : g.nodes()) {
            Replacement r = replacements.get(n.name());
            if (r == null) {
                nodes.add(n);
                continue;
            }
            for (Node added : r.nodes()) {
                if (!added.name().equals(n.name()) && existing.contains(added.name())) {
                    throw new NetslimException("cannot decompose " + n.name() + ": the graph already has a node named "
                            + added.name());
                }
                nodes.add(added);
            }
            fresh.putAll(r.params());
        }
        ParamStore params = new ParamStore();
        for (Node n : nodes) {
            for (String suffix : n.layer().params().keySet()) {
                String name = n.name() + "." + suffix;
                Tensor t = fresh.get(name);
                params.put(name, t != null ? t : g.params().get(name).copy());
            }
        }
        Graph out = g.withNodes(nodes, g.outputName(), params);
        out.validateParams();
        out.shapes(1);
        return out;
    }

    private static String progressLine(int i, int total, LayerReport r) {
        String what = switch (r.status()) {
            case TUCKER2 -> String.format(Locale.ROOT, "ranks [%d, %d], rel. error %.4f", r.r3(), r.r4(), r.relError());
            case LOW_RANK -> String.format(Locale.ROOT, "rank %d, rel. error %.4f", r.r4(), r.relError());
            case SKIPPED -> "skipped: " + r.reason();
        };
        return String.format(Locale.ROOT, "decompose [%d/%d] %s %s: %s (%.2f s)", i, total, r.name(), r.weightShape(),
                what, r.seconds());
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
