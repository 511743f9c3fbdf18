package netslim.nn.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.OnnxImporter;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.tensor.Tensor;

/**
 * PyTorch's ONNX exports of the zoo models and of torchvision's mobilenet_v2 (depthwise convs, ReLU6 as Clip,
 * residual adds), imported as graphs, must compute PyTorch's logits; both unfolded (BatchNormalization nodes) and
 * folded (BN folded into Conv, PyTorch's default export) files. This tests the importer, so it runs on the CPU
 * backend; {@link ZooGoldenTest} runs the same architectures on the reference kernels too. mobilenet_v2, which only
 * this test covers, also runs on the reference kernels.
 */
class OnnxGoldenTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String model : new String[] {"googlenet", "resnet18", "mobilenet_v2", "googlenet-cifar", "vgg11-cifar",
                "resnet20-cifar"}) {
            b.add(Arguments.of(model, false, GoldenFiles.Engine.CPU));
            if (model.endsWith("-cifar")) b.add(Arguments.of(model, true, GoldenFiles.Engine.CPU));
        }
        b.add(Arguments.of("mobilenet_v2", false, GoldenFiles.Engine.REFERENCE));
        return b.build();
    }

    @ParameterizedTest(name = "{0} folded={1} on {2}")
    @MethodSource("cases")
    void importedModelGivesPyTorchLogits(String model, boolean folded, GoldenFiles.Engine engine) {
        Graph g = OnnxImporter.load(GoldenFiles.onnx(model, folded, dir));
        long batchNorms = g.nodes().stream().filter(n -> n.layer() instanceof Layer.BatchNorm2d).count();
        assertEquals(folded, batchNorms == 0, "BatchNorm nodes: " + batchNorms);
        Tensor input = GoldenFiles.input(model);
        String what = model + (folded ? " (folded)" : "") + " on " + engine;
        GoldenFiles.assertMatchesPyTorch(GoldenFiles.run(g, engine, input), GoldenFiles.logits(model), what);
    }
}
