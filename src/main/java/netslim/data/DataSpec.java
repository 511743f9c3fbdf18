package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;

import netslim.NetslimException;
import netslim.tensor.Shape;

/**
 * A CLI data spec: {@code fashion-mnist} (the Debian package dataset-fashion-mnist, in
 * {@value #FASHION_MNIST_DIR}), {@code idx:DIR}, {@code cifar10:DIR} or {@code folder:DIR}. Parsing checks that the
 * directory exists, so a missing dataset is reported before a model is built.
 */
public record DataSpec(Kind kind, Path dir) {
    /** Where the Debian package dataset-fashion-mnist installs the IDX files. */
    public static final String FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

    /** The spec forms, as the CLI documents them. */
    public static final String FORMS = "fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR";

    /** The kinds of data spec. */
    public enum Kind {
        FASHION_MNIST("fashion-mnist"), IDX("idx"), CIFAR10("cifar10"), FOLDER("folder");

        final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }
    }

    public DataSpec {
        java.util.Objects.requireNonNull(kind);
        java.util.Objects.requireNonNull(dir);
    }

    /** Parses a spec; an unknown form or a missing directory is a one-line {@link NetslimException}. */
    public static DataSpec parse(String spec) {
        return parse(spec, Path.of(FASHION_MNIST_DIR));
    }

    /** {@link #parse(String)} with another default location for {@code fashion-mnist} (tests). */
    static DataSpec parse(String spec, Path fashionMnistDir) {
        String s = spec == null ? "" : spec.trim();
        if (s.equals(Kind.FASHION_MNIST.prefix)) {
            if (!Files.isDirectory(fashionMnistDir)) {
                throw new NetslimException("fashion-mnist is not installed in " + fashionMnistDir + ": install it with "
                        + "'apt-get install dataset-fashion-mnist' (as root) or point --data idx:DIR at a directory of "
                        + "Fashion-MNIST IDX files");
            }
            return new DataSpec(Kind.FASHION_MNIST, fashionMnistDir);
        }
        int colon = s.indexOf(':');
        for (Kind k : Kind.values()) {
            if (k != Kind.FASHION_MNIST && colon > 0 && s.substring(0, colon).equals(k.prefix)) {
                String d = s.substring(colon + 1);
                if (d.isEmpty()) throw new NetslimException("data spec '" + s + "' needs a directory: " + k.prefix + ":DIR");
                Path dir = Path.of(d);
                if (!Files.isDirectory(dir)) throw new NetslimException("data spec '" + s + "': " + dir + " is not a directory");
                return new DataSpec(k, dir);
            }
        }
        throw new NetslimException("unknown data spec '" + s + "': expected " + FORMS);
    }

    /**
     * The first {@code limit} examples (all when ≤ 0) of a split. {@code input} (C×H×W) is the size ImageFolder
     * images are converted to; IDX and CIFAR-10 have a fixed size and ignore it (the trainer checks it against the
     * model). {@code input} may be null for them.
     */
    public ByteImageDataset open(Split split, int limit, Shape input) {
        return switch (kind) {
            case FASHION_MNIST -> IdxDataset.open(dir, split, limit, IdxDataset.Flavor.FASHION_MNIST);
            case IDX -> IdxDataset.open(dir, split, limit);
            case CIFAR10 -> Cifar10Dataset.open(dir, split, limit);
            case FOLDER -> {
                if (input == null || input.rank() != 3) {
                    throw new NetslimException("data spec '" + this + "' needs the model's input size CxHxW, got " + input);
                }
                yield ImageFolderDataset.open(dir, split, limit, input.dim(0), input.dim(1), input.dim(2));
            }
        };
    }

    /** The spec as it would be written on the command line. */
    @Override
    public String toString() {
        if (kind == Kind.FASHION_MNIST) return dir.equals(Path.of(FASHION_MNIST_DIR)) ? kind.prefix : "idx:" + dir;
        return kind.prefix + ":" + dir;
    }
}
