package netslim.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import netslim.NetslimException;
import netslim.io.ModelFiles;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.tensor.Shape;
import picocli.CommandLine.Option;

/** --model and the zoo options shared by every command that takes a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "M",
            description = "A zoo name (googlenet, googlenet-cifar, vgg11-cifar, resnet18, resnet20-cifar) or a .nsm/.onnx file.")
    String model;

    @Option(names = "--num-classes", paramLabel = "N", description = "Number of classes for zoo models.")
    int numClasses;

    @Option(names = "--width", paramLabel = "W", defaultValue = "1.0",
            description = "Channel width multiplier (googlenet-cifar).")
    double width;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed for zoo initialisation.")
    long seed;

    boolean isFile() {
        String m = model.toLowerCase();
        return m.endsWith(".nsm") || m.endsWith(".onnx") || m.contains("/") || Files.exists(Path.of(model));
    }

    /** Loads the model; {@code input} (C x H x W) overrides a zoo model's default input, null keeps it. */
    Graph load(Shape input) {
        if (isFile()) {
            Path p = Path.of(model);
            if (!Files.isRegularFile(p)) throw new NetslimException(model + ": no such model file");
            Graph g = ModelFiles.load(p);
            if (input != null && !input.equals(g.inputShape())) {
                throw new NetslimException(model + ": the model takes input " + g.inputShape() + ", not " + input);
            }
            return g;
        }
        if (!Zoo.names().contains(model)) {
            throw new NetslimException("unknown model '" + model + "' (zoo models: " + String.join(", ", Zoo.names())
                    + "; or give a .nsm/.onnx file)");
        }
        return Zoo.create(model, new Zoo.Options(numClasses, input, width, seed));
    }

    /** Parses a CxHxW option value (null stays null). */
    static Shape parseInputShape(String input) {
        if (input == null) return null;
        Shape in;
        try {
            in = Shape.parse(input);
        } catch (NumberFormatException e) {
            throw new NetslimException("--input must look like 3x224x224, got '" + input + "'");
        }
        if (in.rank() != 3) throw new NetslimException("--input must be CxHxW, got '" + input + "'");
        return in;
    }

    /** The name shown in reports: the zoo name or the file name. */
    String displayName() {
        return isFile() ? Path.of(model).getFileName().toString() : model;
    }
}
