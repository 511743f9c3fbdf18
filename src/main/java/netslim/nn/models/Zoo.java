package netslim.nn.models;

import java.util.List;
import java.util.Locale;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.tensor.Shape;

/**
 * The model zoo: named architectures with PyTorch-style seeded initialisation, node names equal to the PyTorch
 * module paths (so parameter names are state-dict keys).
 *
 * <table>
 * <caption>Models</caption>
 * <tr><th>name</th><th>class</th><th>default input</th><th>smallest H, W</th></tr>
 * <tr><td>googlenet</td><td>{@link GoogLeNet}</td><td>3x224x224, 1000 classes</td><td>32</td></tr>
 * <tr><td>googlenet-cifar</td><td>{@link GoogLeNetCifar} (width multiplier)</td><td>1x28x28, 10</td><td>8</td></tr>
 * <tr><td>vgg11-cifar</td><td>{@link Vgg11Cifar}</td><td>1x28x28, 10</td><td>8</td></tr>
 * <tr><td>resnet18</td><td>{@link ResNet#resnet18}</td><td>3x224x224, 1000</td><td>32</td></tr>
 * <tr><td>resnet20-cifar</td><td>{@link ResNet#resnet20Cifar}</td><td>1x28x28, 10</td><td>8</td></tr>
 * </table>
 * The smallest sides are a policy, not a hard limit of the layers: 32 px is the total stride of the ImageNet models
 * (so their last stage still sees at least 1x1), 8 px keeps the CIFAR models' pooled maps meaningful. Any channel
 * count ≥ 1 is accepted.
 */
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

    /** Largest width multiplier: googlenet-cifar at width 16 already has ~1.6 G parameters. */
    private static final int MAX_WIDTH = 16;

    /** How an entry builds its graph from validated options. */
    @FunctionalInterface
    private interface Builder {
        Graph build(Shape input, int numClasses, double width, long seed);
    }

    private record Entry(String name, Shape defaultInput, int defaultClasses, int minSide, boolean hasWidth,
                         Builder builder) {
    }

    private static final List<Entry> ENTRIES = List.of(
            new Entry("googlenet", Shape.of(3, 224, 224), 1000, 32, false,
                    (in, k, w, s) -> GoogLeNet.build(in, k, s)),
            new Entry("googlenet-cifar", Shape.of(1, 28, 28), 10, 8, true, GoogLeNetCifar::build),
            new Entry("vgg11-cifar", Shape.of(1, 28, 28), 10, 8, false, (in, k, w, s) -> Vgg11Cifar.build(in, k, s)),
            new Entry("resnet18", Shape.of(3, 224, 224), 1000, 32, false, (in, k, w, s) -> ResNet.resnet18(in, k, s)),
            new Entry("resnet20-cifar", Shape.of(1, 28, 28), 10, 8, false,
                    (in, k, w, s) -> ResNet.resnet20Cifar(in, k, s)));

    public static List<String> names() {
        return ENTRIES.stream().map(Entry::name).toList();
    }

    /** Builds model {@code name}; throws {@link NetslimException} (one line, listing valid values) on bad options. */
    public static Graph create(String name, Options options) {
        Entry e = entry(name);
        Options o = options == null ? Options.defaults() : options;
        if (o.numClasses() < 0) {
            throw new NetslimException(name + ": number of classes must be ≥ 1 (0 = default " + e.defaultClasses()
                    + "), got " + o.numClasses());
        }
        if (!(o.width() > 0 && o.width() <= MAX_WIDTH)) {
            throw new NetslimException(name + ": width multiplier must be in (0, " + MAX_WIDTH + "], got " + o.width());
        }
        if (!e.hasWidth() && o.width() != 1.0) {
            throw new NetslimException(name + " has no width multiplier (only googlenet-cifar has one); width must be 1, got "
                    + o.width());
        }
        Shape input = o.input() == null ? e.defaultInput() : o.input();
        checkInput(e, input);
        int classes = o.numClasses() == 0 ? e.defaultClasses() : o.numClasses();
        Graph g = e.builder().build(input, classes, o.width(), o.seed());
        g.metadata().put("zoo", String.format(Locale.ROOT,
                "{\"model\":\"%s\",\"input\":\"%s\",\"classes\":%d,\"width\":%s,\"seed\":%d}",
                name, input, classes, o.width(), o.seed()));
        return g;
    }

    /** The default input (C x H x W) of a model. */
    public static Shape defaultInput(String name) {
        return entry(name).defaultInput();
    }

    /** The default number of classes of a model. */
    public static int defaultClasses(String name) {
        return entry(name).defaultClasses();
    }

    /**
     * Number of trainable parameters, as PyTorch's {@code sum(p.numel() for p in model.parameters())} counts them:
     * weights, biases, BatchNorm γ and β; not the running statistics (buffers).
     */
    public static long parameterCount(Graph graph) {
        long n = 0;
        for (var e : graph.params().values().entrySet()) {
            if (!ParamStore.isBuffer(e.getKey())) n += e.getValue().shape().numel();
        }
        return n;
    }

    private static Entry entry(String name) {
        for (Entry e : ENTRIES) if (e.name().equals(name)) return e;
        throw new NetslimException("unknown model '" + name + "' (valid: " + String.join(", ", names()) + ")");
    }

    private static void checkInput(Entry e, Shape in) {
        boolean ok = in.rank() == 3 && in.dim(0) >= 1 && in.dim(1) >= e.minSide() && in.dim(2) >= e.minSide();
        if (!ok) {
            throw new NetslimException(e.name() + ": input must be CxHxW with C ≥ 1 and H, W ≥ " + e.minSide()
                    + " (default " + e.defaultInput() + "), got " + in);
        }
    }
}
