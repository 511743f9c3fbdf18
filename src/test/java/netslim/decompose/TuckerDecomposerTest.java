package netslim.decompose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.io.Nsm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.nn.models.Zoo;
import netslim.report.ModelStats;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** The Graph → Graph rewrite on zoo models: eligibility, the MAC rule, outputs, metadata, files. */
class TuckerDecomposerTest {

    private static Graph zoo(String name) {
        double width = name.equals("googlenet-cifar") ? 0.25 : 1.0;
        return Zoo.create(name, new Zoo.Options(0, null, width, 3));
    }

    private static TuckerDecomposer.Result decompose(Graph g, String policy, String layers, boolean pointwise) {
        return new TuckerDecomposer(new TuckerDecomposer.Options(RankPolicy.parse(policy), 5, layers, pointwise))
                .decompose(g);
    }

    private static Tensor run(Graph g, Tensor x) {
        try (CpuBackend b = CpuBackend.create(1, Gemm.select("java", 1));
             Executor ex = new Executor(g, b, x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    private static boolean eligibleKind(Layer.Conv2d c) {
        return c.spec().groups() == 1 && c.spec().kh() * c.spec().kw() > 1;
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20-cifar", "googlenet-cifar"})
    void replacesOnlyEligibleConvsWithCheaperChains(String model) {
        Graph g = zoo(model);
        Map<String, float[]> before = new HashMap<>();
        g.params().values().forEach((k, v) -> before.put(k, v.toArray()));
        Map<String, Shape> shapes = g.shapes(1);
        TuckerDecomposer.Result r = decompose(g, "evbmf", null, false);
        Graph d = r.graph();
        d.validateParams();
        List<String> convs = g.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d).map(Node::name).toList();
        assertEquals(convs, r.layers().stream().map(LayerReport::name).toList(), "one report per conv, in order");
        long macsSaved = 0;
        for (LayerReport l : r.layers()) {
            Node original = g.node(l.name());
            Layer.Conv2d conv = (Layer.Conv2d) original.layer();
            ConvSpec s = conv.spec();
            if (!eligibleKind(conv)) {
                assertFalse(l.replaced(), l.name());
                assertTrue(l.reason().contains("1x1") || l.reason().contains("grouped"), l.reason());
                assertEquals(original, d.node(l.name()), "untouched " + l.name());
                continue;
            }
            assertTrue(l.replaced(), l.name() + ": " + l.reason());
            int k = s.kh() * s.kw();
            // The per-position rule, and the MACs at the real geometry.
            assertTrue((long) s.inChannels() * l.r3() + (long) l.r3() * l.r4() * k + (long) l.r4() * s.outChannels()
                    < (long) s.inChannels() * s.outChannels() * k, l.name());
            assertTrue(l.macsAfter() < l.macsBefore(), l.name());
            macsSaved += l.macsBefore() - l.macsAfter();
            assertChain(d, original, l, shapes);
            // Random init is noise to EVBMF: the estimate is 0 and the floor decides, and says so.
            assertTrue(l.floorHit(), l.name());
            assertTrue(l.r3() >= 1 && l.r4() >= 1);
        }
        assertTrue(r.replacedCount() > 0);
        ModelStats sb = ModelStats.of(model, g), sa = ModelStats.of(model, d);
        assertEquals(sb.macs() - macsSaved, sa.macs(), "per-layer MACs add up to the model's");
        assertEquals(r.replacedCount(), TuckerMetadata.records(d).size());
        g.params().values().forEach((k, v) -> assertArrayEquals(before.get(k), v.toArray(), "input changed: " + k));
        assertNull(g.metadata().get(TuckerMetadata.KEY));
    }

    /** The three nodes of a replaced conv, wired in place, with the original geometry on the core. */
    private static void assertChain(Graph d, Node original, LayerReport l, Map<String, Shape> shapes) {
        String name = original.name();
        ConvSpec s = ((Layer.Conv2d) original.layer()).spec();
        Node in = d.node(name + ".tucker_in"), core = d.node(name + ".tucker_core"), out = d.node(name);
        assertEquals(original.inputs(), in.inputs());
        assertEquals(List.of(in.name()), core.inputs());
        assertEquals(List.of(core.name()), out.inputs());
        assertEquals(ConvSpec.of(s.inChannels(), l.r3(), 1, 1, 0), ((Layer.Conv2d) in.layer()).spec());
        assertEquals(new ConvSpec(l.r3(), l.r4(), s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(),
                s.dilationH(), s.dilationW(), 1), ((Layer.Conv2d) core.layer()).spec());
        assertEquals(ConvSpec.of(l.r4(), s.outChannels(), 1, 1, 0), ((Layer.Conv2d) out.layer()).spec());
        assertEquals(((Layer.Conv2d) original.layer()).bias(), ((Layer.Conv2d) out.layer()).bias());
        assertEquals(shapes.get(name), d.shapes(1).get(name), "output shape of " + name);
    }

    /**
     * Every k×k conv's kernel replaced by one with exact Tucker ranks (about a quarter of its channels), scaled to
     * the original norm, where such ranks are feasible and make a cheaper chain (not googlenet-cifar's 1-channel
     * stem: R4 ≤ R3·k = 9 there); {@code energy:0.999999} must then find those ranks and the model's output must not
     * change beyond float rounding.
     */
    private static Map<String, int[]> plantTuckerKernels(Graph g, Rng rng) {
        Map<String, int[]> planted = new HashMap<>();
        for (Node n : g.nodes()) {
            if (!(n.layer() instanceof Layer.Conv2d c) || !eligibleKind(c)) continue;
            ConvSpec s = c.spec();
            int r3 = Math.max(1, s.inChannels() / 4), r4 = Math.max(1, s.outChannels() / 4), k = s.kh() * s.kw();
            boolean cheaper = (long) s.inChannels() * r3 + (long) r3 * r4 * k + (long) r4 * s.outChannels()
                    < (long) s.inChannels() * s.outChannels() * k;
            if (!cheaper || !Tucker2.feasible(g.params().get(n.name() + ".weight").shape(), r3, r4)) continue;
            double[] core = new double[r4 * r3 * s.kh() * s.kw()];
            for (int i = 0; i < core.length; i++) core[i] = rng.nextGaussian();
            Tensor w = new ConvKernel(core, r4, r3, s.kh(), s.kw())
                    .expandMode0(DecomposeFixtures.orthonormal(rng, s.outChannels(), r4))
                    .expandMode1(DecomposeFixtures.orthonormal(rng, s.inChannels(), r3)).toTensor();
            Tensor target = g.params().get(n.name() + ".weight");
            double scale = Math.sqrt(normSq(target) / normSq(w));
            float[] wd = w.data();
            for (int i = 0; i < wd.length; i++) wd[i] *= (float) scale;
            target.copyFrom(w);
            planted.put(n.name(), new int[] {r3, r4});
        }
        return planted;
    }

    private static double normSq(Tensor t) {
        double s = 0;
        for (float v : t.toArray()) s += (double) v * v;
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20-cifar", "googlenet-cifar"})
    void plantedLowRankKernelsAreFoundAndTheOutputIsKept(String model) {
        Graph g = zoo(model);
        Rng rng = new Rng(model.length());
        Map<String, int[]> planted = plantTuckerKernels(g, rng);
        TuckerDecomposer.Result r = decompose(g, "energy:0.999999", null, false);
        assertTrue(planted.size() >= 10, "planted " + planted.size());
        for (LayerReport l : r.layers()) {
            int[] ranks = planted.get(l.name());
            if (ranks == null) {
                // A random (full-rank) kernel kept at 99.9999 % energy never makes a cheaper chain.
                assertFalse(l.replaced(), l.name());
                continue;
            }
            assertTrue(l.replaced(), l.name() + ": " + l.reason());
            assertArrayEquals(ranks, new int[] {l.r3(), l.r4()}, l.name());
            assertTrue(l.relError() < 1e-5, l.name() + " rel. error " + l.relError());
        }
        Tensor x = rng.uniform(Shape.of(2, 1, 28, 28));
        Tensor expected = run(g, x), actual = run(r.graph(), x);
        double rel = Close.relL2(actual.toArray(), expected.toArray());
        assertTrue(rel < 1e-4, "logits relative L2 error " + rel);
        Close.assertClose(actual, expected, 1e-4, 1e-3, model + " logits");
    }

    @Test
    void savesLoadsAndRunsBitForBit(@TempDir Path dir) {
        Graph d = decompose(zoo("googlenet-cifar"), "evbmf-weak:0.5", null, false).graph();
        Path file = dir.resolve("d.nsm");
        Nsm.save(d, file);
        Graph loaded = Nsm.load(file);
        assertEquals(d.nodes(), loaded.nodes());
        assertEquals(TuckerMetadata.records(d), TuckerMetadata.records(loaded));
        Tensor x = new Rng(4).uniform(Shape.of(2, 1, 28, 28));
        assertArrayEquals(run(d, x).toArray(), run(loaded, x).toArray());
    }

    @Test
    void theThreadCountDoesNotChangeTheResult() {
        Graph g = zoo("googlenet-cifar");
        List<Graph> results = new java.util.ArrayList<>();
        List<String> progress = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        for (int threads : new int[] {1, 3}) {
            results.add(new TuckerDecomposer(new TuckerDecomposer.Options(RankPolicy.parse("evbmf-weak:0.7"), 3,
                    "b4*", false, threads), new EjmlSvd(), progress::add).decompose(g).graph());
        }
        assertEquals(results.get(0).params().names(), results.get(1).params().names());
        results.get(0).params().values().forEach((k, v) -> assertArrayEquals(v.toArray(),
                results.get(1).params().get(k).toArray(), k));
        assertEquals(results.get(0).metadata(), results.get(1).metadata());
        long layers = g.nodes().stream().filter(n -> n.name().startsWith("b4") && n.layer() instanceof Layer.Conv2d)
                .count();
        assertEquals(2 * layers, progress.size(), "one progress line per layer and run");
    }

    @Test
    void metadataRecordsEachChainAndKeepsEarlierRecords() {
        Graph g = zoo("resnet20-cifar");
        g.metadata().put(TuckerMetadata.KEY, "{\"layer\":\"older\",\"method\":\"tucker2\"}");
        TuckerDecomposer.Result first = decompose(g, "fixed:4,5", "layer2.*", false);
        JsonArray records = TuckerMetadata.records(first.graph());
        assertEquals(1 + first.replacedCount(), records.size());
        assertEquals("older", records.get(0).getAsJsonObject().get("layer").getAsString());
        JsonObject rec = records.get(1).getAsJsonObject();
        assertEquals("layer2.0.conv1", rec.get("layer").getAsString());
        assertEquals("[4,5]", rec.get("ranks").toString());
        assertEquals("[32,16,3,3]", rec.get("shape").toString());
        assertEquals("[\"layer2.0.conv1.tucker_in\",\"layer2.0.conv1.tucker_core\",\"layer2.0.conv1\"]",
                rec.get("nodes").toString());
        for (String key : new String[] {"rel_error", "macs_before", "macs_after", "floor_hit", "policy",
                "estimated_ranks", "hooi_sweeps", "params_before", "params_after"}) {
            assertTrue(rec.has(key), key + " missing in " + rec);
        }
        // Decomposing again (the cores of layer2 are k×k convs themselves) appends; nothing is lost.
        TuckerDecomposer.Result second = decompose(first.graph(), "fixed:2", "layer2.0.*.tucker_core", false);
        assertTrue(second.replacedCount() > 0);
        assertEquals(records.size() + second.replacedCount(), TuckerMetadata.records(second.graph()).size());
        second.graph().shapes(2);
    }

    @Test
    void layersGlobSelectsAndAnUnmatchedGlobIsAnError() {
        Graph g = zoo("resnet20-cifar");
        TuckerDecomposer.Result r = decompose(g, "evbmf", "layer1.0.*, conv1", false);
        assertEquals(List.of("conv1", "layer1.0.conv1", "layer1.0.conv2"),
                r.layers().stream().map(LayerReport::name).toList());
        assertEquals(g.node("layer1.1.conv1"), r.graph().node("layer1.1.conv1"));
        NetslimException e = assertThrows(NetslimException.class, () -> decompose(g, "evbmf", "nope*", false));
        assertTrue(e.getMessage().contains("nope*"), e.getMessage());
    }

    @Test
    void layersThatWouldNotGetCheaperAreSkippedWithTheReason() {
        Graph g = zoo("resnet20-cifar");
        TuckerDecomposer.Result r = decompose(g, "fixed:64", "layer3.1.conv1", false);
        LayerReport l = r.layers().get(0);
        assertFalse(l.replaced());
        assertTrue(l.reason().startsWith("factored MACs not smaller at ranks [64, 64]"), l.reason());
        assertNull(r.graph().metadata().get(TuckerMetadata.KEY));
        assertEquals(g.nodes(), r.graph().nodes());
    }

    @Test
    void pointwiseConvsAreFactoredOnlyOnRequest() {
        // A 1x1 conv 24 → 20 with stride 2, padding 1 and a bias, whose weight has rank 3.
        Rng rng = new Rng(21);
        GraphBuilder b = new GraphBuilder("input", Shape.of(24, 9, 9));
        b.conv("pw", b.input(), new ConvSpec(24, 20, 1, 1, 2, 2, 1, 1, 1, 1, 1), true);
        Graph g = b.build("pw");
        Tensor w = new ConvKernel(new double[] {1, 0.5, 0.2, -0.3, 0.8, 0.1, 0.4, -0.6, 0.9}, 3, 3, 1, 1)
                .expandMode0(DecomposeFixtures.orthonormal(rng, 20, 3))
                .expandMode1(DecomposeFixtures.orthonormal(rng, 24, 3)).toTensor();
        g.params().get("pw.weight").copyFrom(w);
        rng.fillUniform(g.params().get("pw.bias"), -1, 1);
        assertFalse(decompose(g, "evbmf", null, false).layers().get(0).replaced());
        TuckerDecomposer.Result r = decompose(g, "energy:0.999999", null, true);
        LayerReport l = r.layers().get(0);
        assertEquals(LayerReport.Status.LOW_RANK, l.status());
        assertEquals(3, l.r4());
        assertEquals(List.of("pw.lowrank_in", "pw"), r.graph().nodes().stream().map(Node::name).toList());
        assertEquals("lowrank", TuckerMetadata.records(r.graph()).get(0).getAsJsonObject().get("method")
                .getAsString());
        Tensor x = rng.uniform(Shape.of(2, 24, 9, 9));
        Close.assertClose(run(r.graph(), x), run(g, x), 1e-5, 1e-4, "low-rank pair output");
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertThrows(NetslimException.class,
                () -> new TuckerDecomposer.Options(RankPolicy.parse("evbmf"), -1, null, false));
        assertThrows(NetslimException.class, () -> decompose(zoo("resnet20-cifar"), "evbmf", " , ", false));
        GraphBuilder b = new GraphBuilder("input", Shape.of(3, 4, 4));
        b.relu("r", b.input());
        Graph g = b.build("r");
        assertThrows(NetslimException.class, () -> decompose(g, "evbmf", null, false));
        Graph nan = zoo("resnet20-cifar");
        nan.params().get("layer2.1.conv1.weight").set(5, Float.NaN);
        NetslimException e = assertThrows(NetslimException.class, () -> decompose(nan, "evbmf", null, false));
        assertTrue(e.getMessage().contains("layer2.1.conv1"), e.getMessage());
    }
}
