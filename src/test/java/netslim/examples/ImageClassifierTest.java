package netslim.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.api.Prediction;
import netslim.io.OnnxExporter;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;

/** The README's embedding example compiles, runs, and is what the README shows. */
class ImageClassifierTest {
    @TempDir
    Path dir;

    @Test
    void classifiesWithAnExportedModel() {
        Path onnx = dir.resolve("model.onnx");
        OnnxExporter.export(Zoo.create("resnet20-cifar", new Zoo.Options(10, Shape.of(1, 8, 8), 1, 2)), onnx);
        try (ImageClassifier c = new ImageClassifier(onnx)) {
            float[] x = new Rng(4).uniform(Shape.of(2, 1, 8, 8)).toArray();
            List<Prediction> top = c.classify(java.util.Arrays.copyOf(x, 64));
            assertEquals(5, top.size());
            assertEquals(20, c.logits(x, 2).length);
        }
    }

    @Test
    void readmeShowsThisExampleVerbatim() throws IOException {
        String source = Files.readString(Path.of("src/test/java/netslim/examples/ImageClassifier.java"));
        String snippet = source.substring(source.indexOf("// README-BEGIN\n") + 16, source.indexOf("// README-END"));
        String readme = Files.readString(Path.of("README.md"));
        assertTrue(readme.contains(snippet), "README.md's embedding example differs from ImageClassifier.java");
    }
}
