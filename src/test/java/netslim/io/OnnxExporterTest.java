package netslim.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.decompose.RankPolicy;
import netslim.decompose.TuckerDecomposer;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.nn.models.Zoo;
import netslim.prune.FilterPruner;
import netslim.prune.FineTuner;
import netslim.prune.Importance;
import netslim.prune.PruneOptions;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;
import netslim.testing.OrtRunner;

/**
 * ONNX export checked by its oracle, ONNX Runtime: every zoo model, a pruned and a decomposed model, and a graph
 * with every layer kind give netslim's logits (relative L2 ≤ 1e-4), and import(export(m)) computes what m computes.
 */
class OnnxExporterTest {
    /** The bound for ORT vs netslim; both run in float32 with different summation orders and BN folded. */
    private static final double ORT_REL_L2 = 1e-4;

    @TempDir
    Path dir;

    /** Non-trivial BatchNorm statistics (so folding matters) and conv biases, seeded. */
    static void randomizeBatchNorm(Graph g, long seed) {
        Rng rng = new Rng(seed);
        g.params().values().forEach((name, t) -> {
            boolean bn = g.node(name.substring(0, name.lastIndexOf('.'))).layer() instanceof Layer.BatchNorm2d;
            if (bn && (name.endsWith(".weight") || name.endsWith(".running_var"))) rng.fillUniform(t, 0.5f, 1.5f);
            else if (bn) rng.fillUniform(t, -0.5f, 0.5f);
        });
    }

    static Tensor input(Graph g, int batch, long seed) {
        Shape in = g.inputShape();
        return new Rng(seed).uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2)));
    }

    /** netslim's logits on a 2-thread CPU backend with the Java GEMM. */
    static Tensor netslim(Graph g, Tensor x) {
        try (CpuBackend b = CpuBackend.create(2, Gemm.select("java", 2));
             Executor ex = new Executor(g, b, x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    /** Exports, runs in ORT, compares with netslim; returns the exported model. */
    static ModelProto assertOrtMatches(Graph g, Tensor x, String what) {
        ModelProto m = OnnxExporter.toModel(g, what);
        Tensor expected = netslim(g, x);
        Tensor ort = OrtRunner.run(m.toByteArray(), x);
        assertEquals(expected.shape(), ort.shape(), what + ": output shape");
        double rel = Close.relL2(ort.toArray(), expected.toArray());
        assertTrue(rel <= ORT_REL_L2, what + ": ORT vs netslim relative L2 error " + rel);
        return m;
    }

    /** import(export(g)) on the same input computes g's logits (float rounding of the folded BN aside). */
    void assertRoundTrip(Graph g, ModelProto m, Tensor x, String what) throws Exception {
        Path file = dir.resolve(what + ".onnx");
        Files.write(file, m.toByteArray());
        Graph back = OnnxImporter.load(file);
        double rel = Close.relL2(netslim(back, x).toArray(), netslim(g, x).toArray());
        assertTrue(rel <= 1e-5, what + ": import(export(m)) vs m, relative L2 error " + rel);
    }

    private static List<String> ops(ModelProto m) {
        return m.getGraph().getNodeList().stream().map(NodeProto::getOpType).toList();
    }

    private static Map<String, NodeProto> nodesByName(ModelProto m) {
        return m.getGraph().getNodeList().stream().collect(Collectors.toMap(NodeProto::getName, n -> n));
    }

    private static Map<String, String> props(ModelProto m) {
        return m.getMetadataPropsList().stream()
                .collect(Collectors.toMap(StringStringEntryProto::getKey, StringStringEntryProto::getValue));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"googlenet, 3x224x224, 1, 1", "googlenet-cifar, 1x28x28, 0.25, 2", "googlenet-cifar, 3x32x32, 0.125, 2",
        "vgg11-cifar, 1x28x28, 1, 2", "resnet18, 3x64x64, 1, 2", "resnet20-cifar, 1x28x28, 1, 2"})
    void zooModelsRunInOrtWithNetslimLogits(String name, String input, double width, int batch) throws Exception {
        Graph g = Zoo.create(name, new Zoo.Options(0, Shape.parse(input), width, 7));
        randomizeBatchNorm(g, 11);
        Tensor x = input(g, batch, 5);
        ModelProto m = assertOrtMatches(g, x, name);
        long convs = g.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d).count();
        assertEquals(convs, ops(m).stream().filter("Conv"::equals).count(), "one Conv per conv");
        assertFalse(ops(m).contains("BatchNormalization"), "every zoo BatchNorm follows a conv and is folded");
        Map<String, NodeProto> byName = nodesByName(m);
        g.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d)
                .forEach(n -> assertEquals("Conv", byName.get(n.name()).getOpType(), "ONNX node named " + n.name()));
        assertRoundTrip(g, m, x, name);
    }

    @Test
    void everyLayerKindRoundTripsAndRunsInOrt() throws Exception {
        Graph g = TestModels.everyKind(3);
        Tensor x = TestModels.randomInput(Shape.of(3, 3, 9, 9), 4);
        ModelProto m = assertOrtMatches(g, x, "every_kind");
        assertEquals(List.of("Conv", "Relu", "Conv", "Clip", "MaxPool", "Concat", "Conv", "Add", "AveragePool",
                "Clip", "GlobalAveragePool", "Flatten", "Gemm"), ops(m));
        assertTrue(nodesByName(m).get("conv1").getDocString().contains("BatchNorm2d bn1 folded in"));
        assertEquals("{\"conv1\":\"bn1\"}", props(m).get("netslim.batchnorm_folded"));
        assertEquals("{\"source\":\"test\",\"seed\":3}", props(m).get("netslim.provenance"));
        assertRoundTrip(g, m, x, "every_kind");
    }

    @Test
    void formatOpsetAndDynamicBatch() {
        Graph g = TestModels.everyKind(5);
        ModelProto m = OnnxExporter.toModel(g, "m");
        assertEquals(13, m.getOpsetImport(0).getVersion());
        assertEquals("", m.getOpsetImport(0).getDomain());
        assertEquals("netslim", m.getProducerName());
        assertEquals(1, m.getGraph().getInputCount(), "initializers are not graph inputs");
        TensorShapeProto in = m.getGraph().getInput(0).getType().getTensorType().getShape();
        assertEquals("input", m.getGraph().getInput(0).getName());
        assertEquals("batch", in.getDim(0).getDimParam());
        assertEquals(List.of(3L, 9L, 9L), in.getDimList().subList(1, 4).stream().map(d -> d.getDimValue()).toList());
        TensorShapeProto out = m.getGraph().getOutput(0).getType().getTensorType().getShape();
        assertEquals("batch", out.getDim(0).getDimParam());
        assertEquals(5, out.getDim(1).getDimValue());
        byte[] bytes = m.toByteArray();
        for (int batch : new int[] {1, 4}) { // one file, two batch sizes
            Tensor x = TestModels.randomInput(Shape.of(batch, 3, 9, 9), batch);
            Tensor ort = OrtRunner.run(bytes, x);
            Close.assertClose(ort, netslim(g, x), 1e-5, 1e-4, "batch " + batch);
        }
    }

    /** A BatchNorm after a conv whose output has a second reader, and one after a pool, stay BatchNormalization. */
    @Test
    void batchNormThatCannotBeFoldedIsExported() throws Exception {
        GraphBuilder b = new GraphBuilder("x", Shape.of(4, 6, 6));
        String c = b.conv("conv", b.input(), ConvSpec.of(4, 8, 3, 1, 1), true);
        String bn = b.bn("bn", c, 8);
        String side = b.relu("side", c);
        String sum = b.sum("sum", bn, side);
        String pool = b.maxPool("pool", sum, 2, 2, 0, false);
        String bn2 = b.bn("bn_after_pool", pool, 8);
        String out = b.linear("fc", b.flatten("flat", b.globalAvgPool("gap", bn2)), 8, 3, false);
        Graph g = b.build(out);
        new Rng(9).fillUniform(g.params().get("conv.weight"), -0.5f, 0.5f);
        new Rng(10).fillUniform(g.params().get("fc.weight"), -0.5f, 0.5f);
        randomizeBatchNorm(g, 12);
        Tensor x = input(g, 2, 13);
        ModelProto m = assertOrtMatches(g, x, "unfoldable");
        assertEquals(2, ops(m).stream().filter("BatchNormalization"::equals).count());
        assertEquals("{}", props(m).get("netslim.batchnorm_folded"));
        assertRoundTrip(g, m, x, "unfoldable");
    }

    /** Imported PyTorch exports (depthwise convs and ReLU6 in mobilenet_v2) re-export with PyTorch's logits. */
    @ParameterizedTest
    @CsvSource({"mobilenet_v2", "googlenet-cifar.folded"})
    void importedModelsReExport(String name) throws Exception {
        Path onnx = dir.resolve(name + ".onnx");
        try (var in = new java.util.zip.GZIPInputStream(getClass().getResourceAsStream("/golden/" + name + ".onnx.gz"))) {
            Files.copy(in, onnx);
        }
        Graph g = OnnxImporter.load(onnx);
        String base = name.replace(".folded", "");
        Tensor x = Npy.read(Path.of(getClass().getResource("/golden/" + base + ".input.npy").toURI()));
        Tensor torch = Npy.read(Path.of(getClass().getResource("/golden/" + base + ".output.npy").toURI()));
        ModelProto m = assertOrtMatches(g, x, name);
        double rel = Close.relL2(OrtRunner.run(m.toByteArray(), x).toArray(), torch.toArray());
        assertTrue(rel <= ORT_REL_L2, name + ": ORT on the re-export vs PyTorch, relative L2 " + rel);
        assertTrue(props(m).get("netslim.imported_from").contains(name + ".onnx"));
    }

    @Test
    void prunedModelRunsInOrt() throws Exception {
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(0, null, 0.25, 1));
        randomizeBatchNorm(g, 2);
        Graph pruned = new FilterPruner(PruneOptions.ratio(0.4), Importance.l1(), FineTuner.NONE).prune(g).graph();
        assertTrue(Zoo.parameterCount(pruned) < Zoo.parameterCount(g));
        Tensor x = input(pruned, 2, 3);
        ModelProto m = assertOrtMatches(pruned, x, "pruned");
        assertTrue(props(m).containsKey("netslim.pruning"), "pruning history kept: " + props(m).keySet());
        assertRoundTrip(pruned, m, x, "pruned");
    }

    /** A Tucker chain becomes three Conv nodes NAME.tucker_in → NAME.tucker_core → NAME, metadata kept. */
    @Test
    void decomposedModelRunsInOrtWithRecognisableChains() throws Exception {
        Graph g = Zoo.create("resnet20-cifar", new Zoo.Options(0, null, 1, 4));
        randomizeBatchNorm(g, 5);
        Graph d = new TuckerDecomposer(new TuckerDecomposer.Options(RankPolicy.parse("fixed:6,5"), 0, "layer2.*", false))
                .decompose(g).graph();
        Tensor x = input(d, 2, 6);
        ModelProto m = assertOrtMatches(d, x, "tucker");
        Map<String, NodeProto> byName = nodesByName(m);
        String layer = "layer2.1.conv1";
        NodeProto in = byName.get(layer + ".tucker_in"), core = byName.get(layer + ".tucker_core"), last = byName.get(layer);
        assertEquals(List.of("Conv", "Conv", "Conv"), List.of(in.getOpType(), core.getOpType(), last.getOpType()));
        assertEquals(in.getOutput(0), core.getInput(0));
        assertEquals(core.getOutput(0), last.getInput(0));
        assertTrue(core.getDocString().contains("Tucker-2 chain of " + layer + ", 2/3"), core.getDocString());
        assertTrue(last.getDocString().contains("folded in"), "the BatchNorm after the chain folds into its last conv");
        assertTrue(props(m).get("netslim.tucker").contains(layer));
        Path file = dir.resolve("tucker.onnx");
        Files.write(file, m.toByteArray());
        assertEquals(d.metadata().get("tucker"), OnnxImporter.load(file).metadata().get("tucker"));
        assertRoundTrip(d, m, x, "tucker");
    }

    /** Pools with padding, count_include_pad both ways, ceil mode overhang, Clip with one bound, a 3-input Add. */
    @Test
    void poolingAndSumEdgeCases() throws Exception {
        GraphBuilder b = new GraphBuilder("x", Shape.of(3, 7, 7));
        String a = b.add("avg_incl", new Layer.AvgPool2d(new PoolSpec(3, 3, 2, 2, 1, 1, true, true)), b.input());
        String e = b.add("avg_excl", new Layer.AvgPool2d(new PoolSpec(3, 3, 2, 2, 1, 1, true, false)), b.input());
        String p = b.add("max_ceil", new Layer.MaxPool2d(new PoolSpec(3, 3, 2, 2, 1, 1, true, true)), b.input());
        String s = b.sum("sum3", a, e, p);
        String lo = b.add("clip_lo", new Layer.Clip(-0.1f, Float.POSITIVE_INFINITY), s);
        String out = b.flatten("flat", b.add("same", new Layer.Identity(), lo));
        Graph g = b.build(out);
        Tensor x = input(g, 2, 8);
        ModelProto m = assertOrtMatches(g, x, "pools");
        assertEquals(List.of("Pad", "AveragePool", "AveragePool", "MaxPool", "Add", "Add", "Clip", "Flatten"), ops(m));
        assertEquals(List.of("sum3.sum1", "sum3"), m.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Add")).map(NodeProto::getName).toList());
        assertRoundTrip(g, m, x, "pools");
    }

    @Test
    void writesAtomicallyAndNamesTheFileOnError() throws Exception {
        Graph g = TestModels.everyKind(1);
        Path file = dir.resolve("m.onnx");
        OnnxExporter.export(g, file);
        assertTrue(Files.size(file) > 1000);
        try (var s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList(), "no temporary file left behind");
        }
        Path missing = dir.resolve("no/such/dir/m.onnx");
        NetslimException e = assertThrows(NetslimException.class, () -> OnnxExporter.export(g, missing));
        assertTrue(e.getMessage().contains("m.onnx"), e.getMessage());
    }
}
