package netslim.nn.models;

import java.util.List;

import netslim.nn.Graph;
import netslim.tensor.Shape;

/** The model zoo: named architectures with PyTorch-style seeded initialisation. */
public final class Zoo {
    private Zoo() {
    }

    /**
     * Options of a zoo model. {@code input} (C x H x W) and {@code numClasses} may be null / 0 for the model's
     * default; {@code width} is a channel multiplier (only googlenet-cifar uses it); {@code seed} seeds the init.
     */
    public record Options(int numClasses, Shape input, double width, long seed) {
        public static Options defaults() {
            return new Options(0, null, 1.0, 0);
        }
    }

    public static List<String> names() {
        return List.of("googlenet", "googlenet-cifar", "vgg11-cifar", "resnet18", "resnet20-cifar");
    }

    public static Graph create(String name, Options options) {
        throw new UnsupportedOperationException("TODO(zoo helper)");
    }
}
