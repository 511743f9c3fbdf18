package netslim.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import netslim.NetslimException;

/**
 * The ImageFolder layout: {@code DIR/train/<class>/*.png|jpg|jpeg} and {@code DIR/test/<class>/*}. Classes are the
 * train split's subdirectories sorted by name (label = index), for both splits, so a test class that train lacks is
 * an error. Images are decoded once, converted to the requested channels and resized / centre-cropped to the
 * requested size ({@link ImagePixels}), and held as bytes. Example order interleaves the classes (first file of each
 * class, then the second of each, …; files sorted by name), so "the first N examples" of a limit cover all classes.
 */
public final class ImageFolderDataset {
    private ImageFolderDataset() {
    }

    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

    /** The first {@code limit} examples (all when limit ≤ 0) of a split as {@code channels × height × width}. */
    public static ByteImageDataset open(Path root, Split split, int limit, int channels, int height, int width) {
        if (channels != 1 && channels != 3) throw new NetslimException(root + ": images can be read as 1 or 3 channels, not " + channels);
        if (height <= 0 || width <= 0) throw new NetslimException(root + ": bad image size " + height + "x" + width);
        List<String> classes = classDirs(root.resolve("train"));
        if (classes.isEmpty()) throw new NetslimException(root.resolve("train") + ": no class subdirectories");
        Path splitDir = root.resolve(split.dirName());
        List<List<Path>> filesByClass = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) filesByClass.add(List.of());
        for (String cls : classDirs(splitDir)) {
            int label = classes.indexOf(cls);
            if (label < 0) {
                throw new NetslimException(splitDir.resolve(cls) + ": class '" + cls + "' is not among the train classes "
                        + classes);
            }
            filesByClass.set(label, imageFiles(splitDir.resolve(cls)));
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labelList = new ArrayList<>();
        interleave(filesByClass, limit, files, labelList);
        if (files.isEmpty()) throw new NetslimException(splitDir + ": no .png/.jpg/.jpeg images in its class directories");

        int n = files.size(), exampleBytes = channels * height * width;
        if ((long) n * exampleBytes > Integer.MAX_VALUE - 8) {
            throw new NetslimException(splitDir + ": " + n + " images of " + channels + "x" + height + "x" + width
                    + " do not fit in one 2 GiB buffer; use a limit (--train-limit / --test-limit) or a smaller input");
        }
        byte[] pixels = new byte[n * exampleBytes];
        // Decoding dominates; each example writes only its own slice, so the parallel result is deterministic.
        IntStream.range(0, n).parallel().forEach(i -> ImagePixels.resizeCenterCrop(
                ImagePixels.decode(files.get(i), channels), height, width, pixels, i * exampleBytes));
        int[] labels = labelList.stream().mapToInt(Integer::intValue).toArray();
        return new ByteImageDataset(root + " " + split.dirName(), channels, height, width, pixels, labels, classes,
                Normalization.HALF);
    }

    /** Round-robin over classes until {@code limit} (≤ 0: all) files are taken. */
    private static void interleave(List<List<Path>> byClass, int limit, List<Path> files, List<Integer> labels) {
        int longest = byClass.stream().mapToInt(List::size).max().orElse(0);
        for (int k = 0; k < longest; k++) {
            for (int c = 0; c < byClass.size(); c++) {
                if (limit > 0 && files.size() >= limit) return;
                if (k < byClass.get(c).size()) {
                    files.add(byClass.get(c).get(k));
                    labels.add(c);
                }
            }
        }
    }

    /** Non-hidden subdirectory names, sorted. */
    static List<String> classDirs(Path dir) {
        if (!Files.isDirectory(dir)) throw new NetslimException(dir + ": no such directory (expected DIR/train/<class>/ and DIR/test/<class>/)");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().toList();
        } catch (IOException e) {
            throw new NetslimException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    /** The .png/.jpg/.jpeg files (any case) of a class directory, sorted by name. */
    private static List<Path> imageFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageFolderDataset::isImageName).sorted().toList();
        } catch (IOException e) {
            throw new NetslimException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return !n.startsWith(".") && EXTENSIONS.stream().anyMatch(n::endsWith);
    }
}
