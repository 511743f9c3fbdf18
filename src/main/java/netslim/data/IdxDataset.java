package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import netslim.NetslimException;

/**
 * MNIST-layout IDX datasets: {@code DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte} (each gzipped with a
 * {@code .gz} suffix or raw) as a one-channel {@link ByteImageDataset}.
 */
public final class IdxDataset {
    private IdxDataset() {
    }

    /** What an IDX directory holds, which fixes class names and the default normalisation. */
    public enum Flavor {
        MNIST(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), Normalization.MNIST),
        FASHION_MNIST(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                "Bag", "Ankle boot"), Normalization.FASHION_MNIST);

        final List<String> classNames;
        final Normalization normalization;

        Flavor(List<String> classNames, Normalization normalization) {
            this.classNames = classNames;
            this.normalization = normalization;
        }

        /** Fashion-MNIST when the directory's path mentions "fashion" (as the Debian package's does), else MNIST. */
        public static Flavor guess(Path dir) {
            return dir.toAbsolutePath().toString().toLowerCase(Locale.ROOT).contains("fashion") ? FASHION_MNIST : MNIST;
        }
    }

    /** The first {@code limit} examples (all when limit ≤ 0) of a split, flavour guessed from the path. */
    public static ByteImageDataset open(Path dir, Split split, int limit) {
        return open(dir, split, limit, Flavor.guess(dir));
    }

    public static ByteImageDataset open(Path dir, Split split, int limit, Flavor flavor) {
        String prefix = split == Split.TRAIN ? "train" : "t10k";
        Path imagesFile = find(dir, prefix + "-images-idx3-ubyte");
        Path labelsFile = find(dir, prefix + "-labels-idx1-ubyte");
        Idx.Images images = Idx.readImages(imagesFile, limit);
        int[] labels = Idx.readLabels(labelsFile, limit);
        if (images.count() != labels.length) {
            throw new NetslimException(dir + ": " + imagesFile.getFileName() + " has " + images.count() + " images but "
                    + labelsFile.getFileName() + " has " + labels.length + " labels");
        }
        int maxLabel = -1;
        for (int l : labels) maxLabel = Math.max(maxLabel, l);
        if (maxLabel >= flavor.classNames.size()) {
            throw new NetslimException(labelsFile + ": label " + maxLabel + " is outside the " + flavor.classNames.size()
                    + " classes of " + flavor.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        return new ByteImageDataset(dir + " " + split.dirName(), 1, images.rows(), images.cols(), images.pixels(),
                labels, flavor.classNames, flavor.normalization);
    }

    /** {@code base.gz} when present, else {@code base}; neither is an error naming both. */
    private static Path find(Path dir, String base) {
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        Path raw = dir.resolve(base);
        if (Files.isRegularFile(raw)) return raw;
        throw new NetslimException(dir + ": no " + base + ".gz or " + base + " (expected the MNIST IDX file layout)");
    }
}
