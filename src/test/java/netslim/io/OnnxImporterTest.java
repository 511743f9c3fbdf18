package netslim.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import netslim.NetslimException;
import netslim.backend.PoolSpec;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/** Imports the fixtures of src/test/python/make_onnx_fixtures.py and checks them against PyTorch's outputs. */
class OnnxImporterTest {
    @TempDir
    Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(OnnxImporterTest.class.getResource("/onnx/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("missing fixture " + name + " (run src/test/python/make_onnx_fixtures.py)", e);
        }
    }

    private static List<Layer> layers(Graph g) {
        return g.nodes().stream().map(Node::layer).toList();
    }

    private static long count(Graph g, Class<? extends Layer> kind) {
        return layers(g).stream().filter(kind::isInstance).count();
    }

    /** Imports NAME.onnx, runs NAME.input.npy on the reference kernels, compares with PyTorch's NAME.output.npy. */
    static Graph importAndCompare(String name) {
        Graph g = OnnxImporter.load(fixture(name + ".onnx"));
        Tensor x = Npy.read(fixture(name + ".input.npy"));
        Tensor expected = Npy.read(fixture(name + ".output.npy"));
        Tensor y = TestModels.run(g, x);
        double rel = Close.relL2(y.toArray(), expected.toArray());
        assertTrue(rel <= 1e-5, name + ": relative L2 error " + rel);
        Close.assertClose(y, expected, 1e-5, 1e-4, name);
        return g;
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv_bn_relu_folded", "conv_bn_relu_bn_kept", "conv_bn_fresh_identity_aliases", "pools", "inception_concat",
        "residual_add", "clip_relu6_opset11", "clip_relu6_opset10", "grouped_depthwise", "dilation", "flatten_linear",
        "view_linear_static", "view_linear_dynamic", "matmul_add", "dropout_identity", "gemm_alpha_beta"})
    void matchesPyTorch(String name) {
        Graph g = importAndCompare(name);
        assertTrue(g.metadata().get("imported_from").contains(name + ".onnx"));
    }

    @Test
    void batchNormIsFoldedByDefaultAndKeptWithPreserve() {
        assertEquals(0, count(OnnxImporter.load(fixture("conv_bn_relu_folded.onnx")), Layer.BatchNorm2d.class));
        Graph kept = OnnxImporter.load(fixture("conv_bn_relu_bn_kept.onnx"));
        List<Layer.BatchNorm2d> bns = layers(kept).stream().filter(Layer.BatchNorm2d.class::isInstance)
                .map(Layer.BatchNorm2d.class::cast).toList();
        assertEquals(2, bns.size());
        for (Layer.BatchNorm2d bn : bns) {
            assertEquals(0.1f, bn.momentum(), "ONNX momentum 0.9 is PyTorch momentum 0.1");
            assertEquals(1e-5f, bn.eps());
        }
        assertEquals(2, count(kept, Layer.Conv2d.class));
    }

    @Test
    void poolsKeepCeilModeAndPaddingSemantics() {
        Graph g = OnnxImporter.load(fixture("pools.onnx"));
        List<PoolSpec> avg = layers(g).stream().filter(Layer.AvgPool2d.class::isInstance)
                .map(l -> ((Layer.AvgPool2d) l).spec()).toList();
        // AvgPool2d(3, 2, 1, count_include_pad=False, ceil) / (3, 1, 1, True) via Pad / (2, 2, ceil) via Pad(0)
        assertEquals(List.of(new PoolSpec(3, 3, 2, 2, 1, 1, true, false), new PoolSpec(3, 3, 1, 1, 1, 1, false, true),
                new PoolSpec(2, 2, 2, 2, 0, 0, true, true)), avg);
        List<PoolSpec> max = layers(g).stream().filter(Layer.MaxPool2d.class::isInstance)
                .map(l -> ((Layer.MaxPool2d) l).spec()).toList();
        assertEquals(List.of(new PoolSpec(3, 3, 2, 2, 1, 1, true, true), new PoolSpec(2, 2, 2, 2, 0, 0, true, true)), max);
    }

    @Test
    void clipBoundsFromInputsOrAttributes() {
        for (String name : List.of("clip_relu6_opset10.onnx", "clip_relu6_opset11.onnx")) {
            List<Layer> clips = layers(OnnxImporter.load(fixture(name))).stream()
                    .filter(Layer.Clip.class::isInstance).toList();
            assertEquals(List.of(new Layer.Clip(0f, 6f), new Layer.Clip(-0.5f, 0.5f)), clips, name);
        }
    }

    @Test
    void matMulPlusConstantFoldsIntoTheLinearBias() {
        Graph g = OnnxImporter.load(fixture("matmul_add.onnx"));
        List<Layer> linears = layers(g).stream().filter(Layer.Linear.class::isInstance).toList();
        assertEquals(List.of(new Layer.Linear(18, 5, true), new Layer.Linear(5, 3, false)), linears);
        assertEquals(0, count(g, Layer.Add.class));
    }

    @Test
    void dropoutBecomesALayerAndIdentityAnAlias() {
        Graph g = OnnxImporter.load(fixture("dropout_identity.onnx"));
        assertTrue(layers(g).contains(new Layer.Dropout(0.25f)));
        assertEquals(0, count(g, Layer.Identity.class));
        assertEquals(1, count(g, Layer.Flatten.class));
    }

    @Test
    void reshapeToNMinus1IsAFlattenAndTheBatchStaysFree() {
        for (String name : List.of("view_linear_static", "view_linear_dynamic")) {
            Graph g = OnnxImporter.load(fixture(name + ".onnx"));
            assertEquals(1, count(g, Layer.Flatten.class), name);
            assertEquals(Shape.of(3, 7, 7), g.inputShape());
            // run one sample alone (batch 1): the first row of PyTorch's batch-2 output
            Tensor x = Npy.read(fixture(name + ".input.npy"));
            Tensor first = Tensor.of(Shape.of(1, 3, 7, 7), Arrays.copyOf(x.toArray(), 3 * 7 * 7));
            float[] expected = Npy.read(fixture(name + ".output.npy")).toArray();
            Close.assertClose(TestModels.run(g, first).toArray(), Arrays.copyOf(expected, 4), 1e-5, 1e-4, name);
        }
    }

    @Test
    void nodeNamesAreSanitisedAndUnique() {
        Graph g = OnnxImporter.load(fixture("residual_add.onnx"));
        for (Node n : g.nodes()) assertTrue(n.name().matches("[A-Za-z0-9_.\\-]+"), n.name());
        assertEquals(g.nodes().size(), g.nodes().stream().map(Node::name).distinct().count());
        assertTrue(g.nodes().stream().anyMatch(n -> n.name().equals("body.body.0.Conv")), g.nodes().toString());
    }

    @Test
    void initializersKeepTheirOnnxNamesAndMatchTheImportedParameters() {
        Path f = fixture("conv_bn_relu_bn_kept.onnx");
        Map<String, Tensor> init = OnnxImporter.initializers(f);
        assertTrue(init.keySet().containsAll(List.of("0.weight", "1.weight", "1.bias", "1.running_mean",
                "1.running_var", "3.weight", "4.running_var")), init.keySet().toString());
        assertEquals(Shape.of(8, 3, 3, 3), init.get("0.weight").shape());
        Graph g = OnnxImporter.load(f);
        Node bn = g.nodes().stream().filter(n -> n.layer() instanceof Layer.BatchNorm2d).findFirst().orElseThrow();
        assertArrayEquals(init.get("1.running_var").toArray(), g.params().get(bn.name() + ".running_var").toArray());
    }

    @Test
    void importedModelsSurviveAnNsmRoundTrip() {
        Graph g = OnnxImporter.load(fixture("inception_concat.onnx"));
        Path f = dir.resolve("inception.nsm");
        Nsm.save(g, f);
        Graph back = Nsm.load(f);
        Tensor x = Npy.read(fixture("inception_concat.input.npy"));
        assertArrayEquals(TestModels.run(g, x).toArray(), TestModels.run(back, x).toArray());
        assertEquals(g.metadata(), back.metadata());
    }

    // ---- refusals: one line naming the file and the node ----

    private static String loadFails(Path f) {
        NetslimException e = assertThrows(NetslimException.class, () -> OnnxImporter.load(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.getFileName().toString()), m);
        assertFalse(m.contains("\n"), m);
        return m;
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bad_unsupported_op.onnx | node norm1 (LRN): operator LRN is not supported",
        "bad_asymmetric_pads.onnx | node conv_asym (Conv): asymmetric pads [0, 0, 1, 1] are not supported",
        "bad_auto_pad.onnx | node conv_same (Conv): auto_pad SAME_LOWER is not supported",
        "bad_pool_dilation.onnx | node pool_dil (MaxPool): dilations [2, 2] are not supported",
        "bad_pad_before_relu.onnx | node relu_after_pad (Relu): reads the output of a Pad",
        "bad_broadcast_add.onnx | node add_bcast (Add): broadcasting Add of shapes 1x3x8x8 and 1x3x1x1",
        "bad_two_inputs.onnx | the model must have exactly one input that is not an initializer, has [x, x2]",
        "bad_reshape.onnx | node to_3d (Reshape): reshape of (1, 3, 8, 8) to [1, 3, 64] is not supported"})
    void unsupportedModelsAreRefusedNamingTheNode(String file, String message) {
        String m = loadFails(fixture(file));
        assertTrue(m.contains(file + ": " + message), m);
    }

    @Test
    void truncatedRandomAndMissingFilesAreRefused() throws IOException {
        byte[] good = Files.readAllBytes(fixture("residual_add.onnx"));
        for (int len : new int[] {0, 1, 20, good.length / 2, good.length - 1}) {
            loadFails(Files.write(dir.resolve("trunc" + len + ".onnx"), Arrays.copyOf(good, len)));
        }
        Rng rng = new Rng(21);
        byte[] random = new byte[3000];
        for (int i = 0; i < random.length; i++) random[i] = (byte) rng.nextInt(256);
        loadFails(Files.write(dir.resolve("random.onnx"), random));
        loadFails(Files.write(dir.resolve("text.onnx"), "not a model at all\n".getBytes()));
        assertTrue(loadFails(dir.resolve("absent.onnx")).contains("no such file"));
        NetslimException e = assertThrows(NetslimException.class,
                () -> OnnxImporter.initializers(dir.resolve("absent.onnx")));
        assertTrue(e.getMessage().contains("absent.onnx"));
    }

    @Test
    void hugeInitializerDimsAreRefusedBeforeAllocating() throws IOException {
        ModelProto good = ModelProto.parseFrom(Files.readAllBytes(fixture("conv_bn_relu_folded.onnx")));
        String name = good.getGraph().getInitializer(0).getName();
        for (List<Long> dims : List.of(List.of(1_000_000L, 1_000_000L), List.of(40_000L, 40_000L), List.of(-1L, 4L))) {
            ModelProto.Builder m = good.toBuilder();
            TensorProto.Builder t = m.getGraphBuilder().getInitializerBuilder(0);
            t.clearDims().addAllDims(dims);
            Path f = Files.write(dir.resolve("huge.onnx"), m.build().toByteArray());
            assertTrue(loadFails(f).contains("initializer " + name), dims.toString());
            assertThrows(NetslimException.class, () -> OnnxImporter.initializers(f));
        }
    }

    /** Seeded byte flips: each corrupt model either imports (a flip in a weight) or fails with a NetslimException. */
    @Test
    void flippedBytesNeverEscapeAsAnotherException() throws IOException {
        byte[] good = Files.readAllBytes(fixture("inception_concat.onnx"));
        Rng rng = new Rng(8);
        Path f = dir.resolve("fuzz.onnx");
        int refused = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = good.clone();
            for (int k = 0; k <= trial % 4; k++) b[rng.nextInt(b.length)] ^= (byte) (1 + rng.nextInt(255));
            Files.write(f, b);
            try {
                OnnxImporter.load(f);
                OnnxImporter.initializers(f);
            } catch (NetslimException e) {
                assertTrue(e.getMessage().contains("fuzz.onnx"), e.getMessage());
                assertTrue(e.getMessage().chars().noneMatch(Character::isISOControl), e.getMessage());
                refused++;
            }
        }
        assertTrue(refused > 30, "some corruptions must be detected, got " + refused);
    }
}
