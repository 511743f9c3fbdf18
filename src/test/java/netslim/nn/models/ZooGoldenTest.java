package netslim.nn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.OnnxImporter;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Each zoo model, given PyTorch's weights by name (the unfolded golden ONNX keeps state-dict keys as initializer
 * names), must compute PyTorch's logits. Checks names, shapes and the forward pass of the whole architecture.
 */
class ZooGoldenTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String model : new String[] {"googlenet", "resnet18", "googlenet-cifar", "vgg11-cifar", "resnet20-cifar"}) {
            for (GoldenFiles.Engine e : GoldenFiles.Engine.values()) b.add(Arguments.of(model, e));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void zooModelWithPyTorchWeightsGivesPyTorchLogits(String model, GoldenFiles.Engine engine) {
        check(model, engine);
    }

    /**
     * The CPU serving plan with F(4x4, 3x3) forced on every 3x3 stride-1 conv (the golden inputs are too small for
     * the automatic rule to pick it): still PyTorch's logits.
     */
    @ParameterizedTest(name = "{0} on CPU_SERVING, F(4x4, 3x3) everywhere")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"googlenet", "googlenet-cifar"})
    void fourByFourWinogradGivesPyTorchLogits(String model) {
        netslim.testing.SystemProperties.with(java.util.Map.of("netslim.winograd", "on", "netslim.winograd.tile", "4"),
                () -> check(model, GoldenFiles.Engine.CPU_SERVING));
    }

    private static void check(String model, GoldenFiles.Engine engine) {
        Tensor input = GoldenFiles.input(model);
        Tensor expected = GoldenFiles.logits(model);
        Shape chw = Shape.of(input.shape().c(), input.shape().h(), input.shape().w());
        Graph g = Zoo.create(model, new Zoo.Options(expected.shape().dim(1), chw, 1.0, 0));

        Map<String, Tensor> weights = OnnxImporter.initializers(GoldenFiles.onnx(model, false, dir));
        assertEquals(new TreeSet<>(weights.keySet()), new TreeSet<>(g.params().names()),
                "zoo parameter names must be PyTorch's state-dict keys");
        for (String name : g.params().names()) {
            Tensor w = weights.get(name);
            assertEquals(g.params().get(name).shape(), w.shape(), name);
            g.params().get(name).copyFrom(w);
        }
        GoldenFiles.assertMatchesPyTorch(GoldenFiles.run(g, engine, input), expected, model + " on " + engine);
    }
}
