package netslim.nn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.Node;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

class ZooTest {

    private static Graph create(String name, int classes, Shape input, double width, long seed) {
        return Zoo.create(name, new Zoo.Options(classes, input, width, seed));
    }

    private static Graph create(String name, Shape input) {
        return create(name, 0, input, 1.0, 0);
    }

    // ---- parameter counts -------------------------------------------------------------------------------------

    /** Counts from PyTorch: sum(p.numel() for p in m.parameters()), torchvision 0.14 and make_golden.py's twins. */
    static Stream<Arguments> parameterCounts() {
        return Stream.of(
                Arguments.of("googlenet", 1000, null, 6_624_904L),
                Arguments.of("googlenet", 10, null, 5_610_154L),
                Arguments.of("resnet18", 1000, null, 11_689_512L),
                Arguments.of("resnet18", 10, null, 11_181_642L),
                Arguments.of("googlenet-cifar", 10, Shape.of(3, 32, 32), 6_166_250L), // kuangliu/pytorch-cifar
                Arguments.of("googlenet-cifar", 10, Shape.of(1, 28, 28), 6_162_794L),
                Arguments.of("vgg11-cifar", 10, Shape.of(1, 28, 28), 9_229_962L),
                Arguments.of("resnet20-cifar", 10, Shape.of(3, 32, 32), 272_474L));
    }

    @ParameterizedTest(name = "{0} classes={1} input={2}: {3}")
    @MethodSource("parameterCounts")
    void parameterCountMatchesPyTorch(String name, int classes, Shape input, long expected) {
        assertEquals(expected, Zoo.parameterCount(create(name, classes, input, 1.0, 0)));
    }

    @Test
    void parameterCountExcludesRunningStatistics() {
        Graph g = create("resnet20-cifar", null);
        long buffers = g.params().names().stream().filter(n -> n.endsWith(".running_mean") || n.endsWith(".running_var"))
                .mapToLong(n -> g.params().get(n).shape().numel()).sum();
        assertTrue(buffers > 0);
        assertEquals(g.params().totalElements() - buffers, Zoo.parameterCount(g));
    }

    /** Conv and Linear multiply-accumulates (no bias adds), as counted by hooks on the PyTorch twins. */
    static Stream<Arguments> macCounts() {
        return Stream.of(
                Arguments.of("googlenet", Shape.of(3, 224, 224), 1000, 1_498_376_192L), // ALGORITHMS.md: ≈1.50 G
                Arguments.of("resnet18", Shape.of(3, 224, 224), 1000, 1_814_073_344L),
                Arguments.of("googlenet-cifar", Shape.of(3, 32, 32), 10, 1_521_756_160L), // HRank: 1.52 G
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), 10, 1_162_387_456L),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28), 10, 133_756_928L),
                Arguments.of("resnet20-cifar", Shape.of(3, 32, 32), 10, 40_813_184L));
    }

    @ParameterizedTest(name = "{0} at {1}: {3} MACs")
    @MethodSource("macCounts")
    void macCountMatchesPyTorch(String name, Shape input, int classes, long expected) {
        Graph g = create(name, classes, input, 1.0, 0);
        Map<String, Shape> shapes = g.shapes(1);
        long macs = 0;
        for (Node n : g.nodes()) {
            if (n.layer() instanceof Layer.Conv2d c) {
                Shape out = shapes.get(n.name());
                macs += (long) c.spec().fanIn() * out.c() * out.h() * out.w();
            } else if (n.layer() instanceof Layer.Linear lin) {
                macs += (long) lin.in() * lin.out();
            }
        }
        assertEquals(expected, macs);
    }

    // ---- structure and shapes ---------------------------------------------------------------------------------

    static Stream<Arguments> supportedInputs() {
        return Stream.of(
                Arguments.of("googlenet", Shape.of(3, 224, 224)), Arguments.of("googlenet", Shape.of(3, 64, 64)),
                Arguments.of("googlenet", Shape.of(1, 32, 32)),
                Arguments.of("resnet18", Shape.of(3, 224, 224)), Arguments.of("resnet18", Shape.of(3, 64, 64)),
                Arguments.of("resnet18", Shape.of(1, 32, 32)),
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28)), Arguments.of("googlenet-cifar", Shape.of(3, 32, 32)),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28)), Arguments.of("vgg11-cifar", Shape.of(3, 32, 32)),
                Arguments.of("resnet20-cifar", Shape.of(1, 28, 28)), Arguments.of("resnet20-cifar", Shape.of(3, 32, 32)));
    }

    @ParameterizedTest(name = "{0} at {1}")
    @MethodSource("supportedInputs")
    void buildsWithValidShapes(String name, Shape input) {
        Graph g = create(name, 7, input, 1.0, 1);
        assertEquals(input, g.inputShape());
        Map<String, Shape> shapes = g.shapes(3);
        assertEquals(Shape.of(3, 7), shapes.get(g.outputName()));
        g.validateParams();
        for (Node n : g.nodes()) {
            Shape s = shapes.get(n.name());
            assertTrue(s.numel() > 0, n.name() + " has an empty output " + s);
        }
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        for (String name : Zoo.names()) {
            Graph g = create(name, null);
            Shape expectedInput = name.endsWith("-cifar") ? Shape.of(1, 28, 28) : Shape.of(3, 224, 224);
            assertEquals(expectedInput, g.inputShape(), name);
            assertEquals(expectedInput, Zoo.defaultInput(name), name);
            int classes = name.endsWith("-cifar") ? 10 : 1000;
            assertEquals(Shape.of(1, classes), g.shapes(1).get(g.outputName()), name);
        }
        assertEquals(Zoo.create("vgg11-cifar", null).params().names(),
                Zoo.create("vgg11-cifar", Zoo.Options.defaults()).params().names());
    }

    /** Feature-map sizes PyTorch reports for these models (ceil-mode pools included). */
    static Stream<Arguments> intermediateShapes() {
        return Stream.of(
                Arguments.of("googlenet", Shape.of(3, 224, 224), "maxpool1", Shape.of(1, 64, 56, 56)),
                Arguments.of("googlenet", Shape.of(3, 224, 224), "inception4e.concat", Shape.of(1, 832, 14, 14)),
                Arguments.of("googlenet", Shape.of(3, 224, 224), "inception5b.concat", Shape.of(1, 1024, 7, 7)),
                Arguments.of("googlenet", Shape.of(3, 64, 64), "inception5b.concat", Shape.of(1, 1024, 2, 2)),
                Arguments.of("resnet18", Shape.of(3, 224, 224), "layer4.1.relu2", Shape.of(1, 512, 7, 7)),
                Arguments.of("resnet18", Shape.of(3, 224, 224), "layer2.0.downsample.1", Shape.of(1, 128, 28, 28)),
                Arguments.of("googlenet-cifar", Shape.of(3, 32, 32), "b5.concat", Shape.of(1, 1024, 8, 8)),
                Arguments.of("googlenet-cifar", Shape.of(1, 28, 28), "b5.concat", Shape.of(1, 1024, 7, 7)),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28), "features.14", Shape.of(1, 256, 4, 4)),
                Arguments.of("vgg11-cifar", Shape.of(1, 28, 28), "features.28", Shape.of(1, 512, 1, 1)),
                Arguments.of("resnet20-cifar", Shape.of(1, 28, 28), "layer3.2.relu2", Shape.of(1, 64, 7, 7)));
    }

    @ParameterizedTest(name = "{0} at {1}: {2} is {3}")
    @MethodSource("intermediateShapes")
    void intermediateShapesMatchPyTorch(String name, Shape input, String node, Shape expected) {
        assertEquals(expected, create(name, input).shapes(1).get(node));
    }

    @Test
    void googlenetKeepsTorchvisionNamesAndQuirks() {
        Graph g = create("googlenet", null);
        assertEquals(Shape.of(64, 3, 7, 7), g.params().get("conv1.conv.weight").shape());
        assertFalse(g.params().contains("conv1.conv.bias"), "BasicConv2d has no conv bias");
        assertEquals(0.001f, ((Layer.BatchNorm2d) g.node("conv1.bn").layer()).eps());
        assertEquals(Shape.of(128, 96, 3, 3), g.params().get("inception3a.branch2.1.conv.weight").shape());
        // torchvision's branch3 uses a 3x3 kernel where the paper has 5x5 (pytorch/vision#906)
        assertEquals(Shape.of(32, 16, 3, 3), g.params().get("inception3a.branch3.1.conv.weight").shape());
        assertEquals(Shape.of(1000, 1024), g.params().get("fc.weight").shape());
        assertTrue(((Layer.MaxPool2d) g.node("maxpool1").layer()).spec().ceilMode());
        assertTrue(((Layer.MaxPool2d) g.node("inception3a.branch4.0").layer()).spec().ceilMode());
        assertEquals(0.2f, ((Layer.Dropout) g.node("dropout").layer()).p());
    }

    @Test
    void cifarModelsUseThePyTorchModulePaths() {
        Graph g = create("googlenet-cifar", null);
        assertEquals(Shape.of(192, 1, 3, 3), g.params().get("pre_layers.0.weight").shape());
        assertEquals(Shape.of(32, 32, 3, 3), g.params().get("a3.b3.6.weight").shape());
        assertEquals(Shape.of(32), g.params().get("a3.b3.7.running_var").shape());
        assertEquals(Shape.of(64, 512, 1, 1), g.params().get("b4.b4.1.weight").shape());
        assertEquals(Shape.of(10, 1024), g.params().get("linear.weight").shape());
        Graph r = create("resnet20-cifar", null);
        assertEquals(Shape.of(32, 16, 1, 1), r.params().get("layer2.0.downsample.0.weight").shape());
        assertFalse(r.params().contains("layer1.0.downsample.0.weight"), "identity shortcut where shapes agree");
        assertEquals(9, r.nodes().stream().filter(n -> n.layer() instanceof Layer.Add).count());
        Graph v = create("vgg11-cifar", null);
        assertEquals(Shape.of(512, 512, 3, 3), v.params().get("features.25.weight").shape());
        assertEquals(Shape.of(10, 512), v.params().get("classifier.weight").shape());
    }

    // ---- initialisation ---------------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("netslim.nn.models.Zoo#names")
    void seededInitIsReproducible(String name) {
        Shape input = name.endsWith("-cifar") ? null : Shape.of(3, 32, 32);
        Graph a = create(name, 10, input, 1.0, 42), b = create(name, 10, input, 1.0, 42);
        Graph c = create(name, 10, input, 1.0, 43);
        assertEquals(a.params().names(), b.params().names());
        int differing = 0, random = 0;
        for (String p : a.params().names()) {
            float[] x = a.params().get(p).toArray();
            assertArrayEquals(x, b.params().get(p).toArray(), p);
            if (p.endsWith(".weight") && !(a.node(p.substring(0, p.lastIndexOf('.'))).layer() instanceof Layer.BatchNorm2d)) {
                random++;
                if (!Arrays.equals(x, c.params().get(p).toArray())) differing++;
            }
        }
        assertTrue(random > 0);
        assertEquals(random, differing, "every conv/linear weight must change with the seed");
    }

    @Test
    void googlenetInitIsTruncatedNormalStd001() {
        Graph g = create("googlenet", 10, Shape.of(3, 32, 32), 1.0, 5);
        Stats w = Stats.of(g.params().get("inception4e.branch2.1.conv.weight"));
        assertEquals(0.0, w.mean, 2e-4);
        assertEquals(0.01, w.std, 2e-4);
        assertTrue(w.maxAbs < 0.07, "N(0, 0.01) never strays 7 sigma in 460k draws: " + w.maxAbs);
        Stats bias = Stats.of(g.params().get("fc.bias"));
        assertTrue(bias.maxAbs <= 1 / Math.sqrt(1024), "fc.bias keeps PyTorch's default U(±1/√fan_in)");
        Stats gamma = Stats.of(g.params().get("inception4e.branch2.1.bn.weight"));
        assertEquals(1.0, gamma.mean, 0.0);
        assertEquals(0.0, gamma.std, 0.0);
    }

    @Test
    void resnet18InitIsKaimingFanOutForConvAndDefaultForLinear() {
        Graph g = create("resnet18", 10, Shape.of(3, 32, 32), 1.0, 5);
        Stats w = Stats.of(g.params().get("layer3.0.conv2.weight")); // (256, 256, 3, 3): fan_out 2304
        assertEquals(Math.sqrt(2.0 / 2304), w.std, 0.01 * Math.sqrt(2.0 / 2304));
        assertEquals(0.0, w.mean, 1e-3 * w.std * 10);
        Stats fc = Stats.of(g.params().get("fc.weight"));
        double bound = 1 / Math.sqrt(512);
        assertTrue(fc.maxAbs <= bound && fc.maxAbs > 0.95 * bound, "U(±1/√512): max " + fc.maxAbs);
    }

    @Test
    void cifarModelsUsePyTorchDefaultInit() {
        Graph g = create("vgg11-cifar", null);
        Tensor w = g.params().get("features.4.weight"); // (128, 64, 3, 3): fan_in 576
        double bound = 1 / Math.sqrt(576);
        Stats s = Stats.of(w);
        assertTrue(s.maxAbs <= bound && s.maxAbs > 0.99 * bound, "max " + s.maxAbs);
        assertEquals(bound / Math.sqrt(3), s.std, 0.01 * bound); // std of U(-b, b) is b/√3
        Stats bias = Stats.of(g.params().get("features.4.bias"));
        assertTrue(bias.maxAbs <= bound && bias.maxAbs > 0.5 * bound);
        assertEquals(1.0, Stats.of(g.params().get("features.5.running_var")).mean, 0.0);
    }

    /** Mean, standard deviation and largest |x| of a tensor. */
    private record Stats(double mean, double std, double maxAbs) {
        static Stats of(Tensor t) {
            double sum = 0, sq = 0, max = 0;
            for (float v : t.toArray()) {
                sum += v;
                sq += (double) v * v;
                max = Math.max(max, Math.abs(v));
            }
            double mean = sum / t.size();
            return new Stats(mean, Math.sqrt(Math.max(0, sq / t.size() - mean * mean)), max);
        }
    }

    // ---- width multiplier -------------------------------------------------------------------------------------

    @Test
    void widthRuleRoundsToNearestWithFloorOne() {
        assertEquals(96, GoogLeNetCifar.scaled(192, 0.5));
        assertEquals(24, GoogLeNetCifar.scaled(16, 1.5));
        assertEquals(2, GoogLeNetCifar.scaled(3, 0.5)); // 1.5 rounds up
        assertEquals(1, GoogLeNetCifar.scaled(16, 0.01));
        assertEquals(384, GoogLeNetCifar.scaled(384, 1.0));
    }

    @Test
    void widthMultiplierScalesEveryChannelCount() {
        Graph half = create("googlenet-cifar", 10, null, 0.5, 0);
        Map<String, Shape> shapes = half.shapes(1);
        assertEquals(96, shapes.get("pre_layers.2").c());
        assertEquals(32, shapes.get("a3.b1.2").c());     // 64 / 2
        assertEquals(48, shapes.get("a3.b2.2").c());     // 96 / 2
        assertEquals(8, shapes.get("a3.b3.2").c());      // 16 / 2
        assertEquals(32, shapes.get("b4.b3.8").c());     // 64 / 2
        assertEquals(512, shapes.get("b5.concat").c());  // (384 + 384 + 128 + 128) / 2
        assertEquals(Shape.of(10, 512), half.params().get("linear.weight").shape());
        assertEquals(Shape.of(48, 96, 1, 1), half.params().get("a3.b2.0.weight").shape());
        long full = Zoo.parameterCount(create("googlenet-cifar", null));
        long p = Zoo.parameterCount(half);
        assertTrue(p > full / 5 && p < full / 3, "params scale about quadratically: " + p + " vs " + full);

        Graph tiny = create("googlenet-cifar", 10, null, 0.01, 0);
        assertEquals(1, tiny.shapes(1).get("a3.b3.2").c(), "floor of one channel");
        assertEquals(4, tiny.shapes(1).get("a3.concat").c());
        assertEquals(1, tiny.shapes(1).get("b5.b4.3").c());
    }

    // ---- bad options ------------------------------------------------------------------------------------------

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of("alexnet", Zoo.Options.defaults(), "googlenet, googlenet-cifar, vgg11-cifar, resnet18, resnet20-cifar"),
                Arguments.of("googlenet-cifar", new Zoo.Options(0, null, 0, 0), "width"),
                Arguments.of("googlenet-cifar", new Zoo.Options(0, null, -1, 0), "width"),
                Arguments.of("googlenet-cifar", new Zoo.Options(0, null, Double.NaN, 0), "width"),
                Arguments.of("googlenet-cifar", new Zoo.Options(0, null, Double.POSITIVE_INFINITY, 0), "width"),
                Arguments.of("googlenet-cifar", new Zoo.Options(0, null, 1e9, 0), "(0, 16]"),
                Arguments.of("resnet18", new Zoo.Options(0, null, 0.5, 0), "only googlenet-cifar"),
                Arguments.of("vgg11-cifar", new Zoo.Options(-3, null, 1, 0), "classes"),
                Arguments.of("vgg11-cifar", new Zoo.Options(0, Shape.of(1, 4, 4), 1, 0), "H, W ≥ 8"),
                Arguments.of("resnet20-cifar", new Zoo.Options(0, Shape.of(1, 28, 7), 1, 0), "H, W ≥ 8"),
                Arguments.of("googlenet", new Zoo.Options(0, Shape.of(3, 16, 16), 1, 0), "H, W ≥ 32"),
                Arguments.of("resnet18", new Zoo.Options(0, Shape.of(0, 64, 64), 1, 0), "C ≥ 1"),
                Arguments.of("resnet18", new Zoo.Options(0, Shape.of(64, 64), 1, 0), "CxHxW"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badOptions")
    void badOptionsAreReportedInOneLine(String name, Zoo.Options options, String mentions) {
        NetslimException e = assertThrows(NetslimException.class, () -> Zoo.create(name, options));
        assertTrue(e.getMessage().contains(mentions), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void smallestDocumentedInputsBuild() {
        assertEquals(Shape.of(2, 10), create("vgg11-cifar", Shape.of(1, 8, 8)).shapes(2).get("classifier"));
        assertEquals(Shape.of(2, 1000), create("googlenet", Shape.of(3, 32, 32)).shapes(2).get("fc"));
    }
}
