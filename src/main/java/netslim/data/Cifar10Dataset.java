package netslim.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import netslim.NetslimException;

/**
 * CIFAR-10 in its binary version: {@code data_batch_1.bin … data_batch_5.bin} (train) and {@code test_batch.bin}
 * (test), each a run of 3073-byte records (1 label byte, then 1024 red, 1024 green, 1024 blue bytes: already CHW,
 * 32×32). Class names come from {@code batches.meta.txt} when present.
 */
public final class Cifar10Dataset {
    private Cifar10Dataset() {
    }

    static final int SIDE = 32, CHANNELS = 3, IMAGE_BYTES = CHANNELS * SIDE * SIDE, RECORD_BYTES = 1 + IMAGE_BYTES;
    static final List<String> DEFAULT_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
            "horse", "ship", "truck");

    /** The batch files of a split, in reading order. */
    static List<String> files(Split split) {
        if (split == Split.TEST) return List.of("test_batch.bin");
        List<String> f = new ArrayList<>();
        for (int i = 1; i <= 5; i++) f.add("data_batch_" + i + ".bin");
        return f;
    }

    /** The first {@code limit} examples (all when limit ≤ 0) of a split; later files are not opened. */
    public static ByteImageDataset open(Path dir, Split split, int limit) {
        List<String> classes = classNames(dir);
        List<Path> paths = new ArrayList<>();
        long total = 0;
        for (String name : files(split)) {
            if (limit > 0 && total >= limit) break;
            Path p = dir.resolve(name);
            paths.add(p);
            total += recordCount(p);
        }
        int count = (int) (limit > 0 ? Math.min(limit, total) : total);
        byte[] pixels = new byte[count * IMAGE_BYTES];
        int[] labels = new int[count];
        int done = 0;
        for (Path p : paths) done += readRecords(p, pixels, labels, done, count - done, classes.size());
        return new ByteImageDataset(dir + " " + split.dirName(), CHANNELS, SIDE, SIDE, pixels, labels, classes,
                Normalization.CIFAR10);
    }

    private static long recordCount(Path p) {
        if (!Files.isRegularFile(p)) throw new NetslimException(p + ": no such file (expected the CIFAR-10 binary version)");
        long size;
        try {
            size = Files.size(p);
        } catch (IOException e) {
            throw new NetslimException(p + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (size == 0 || size % RECORD_BYTES != 0) {
            throw new NetslimException(p + ": " + size + " bytes is not a whole number of 3073-byte CIFAR-10 records "
                    + "(truncated or not a CIFAR-10 binary batch)");
        }
        return size / RECORD_BYTES;
    }

    /** Reads up to {@code max} records into the arrays from example {@code start}; returns how many. */
    private static int readRecords(Path p, byte[] pixels, int[] labels, int start, int max, int numClasses) {
        byte[] record = new byte[RECORD_BYTES];
        int n = 0;
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(p), 1 << 16)) {
            while (n < max && in.readNBytes(record, 0, RECORD_BYTES) == RECORD_BYTES) {
                int label = record[0] & 0xff;
                if (label >= numClasses) {
                    throw new NetslimException(p + ": record " + n + " has label " + label + ", outside [0, " + numClasses
                            + ") (corrupt file?)");
                }
                labels[start + n] = label;
                System.arraycopy(record, 1, pixels, (start + n) * IMAGE_BYTES, IMAGE_BYTES);
                n++;
            }
        } catch (IOException e) {
            throw new NetslimException(p + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (n < max && n < recordCount(p)) throw new NetslimException(p + ": truncated while reading");
        return n;
    }

    /** The non-empty lines of {@code batches.meta.txt} (at least 10), or the standard names when it is absent. */
    static List<String> classNames(Path dir) {
        if (!Files.isDirectory(dir)) throw new NetslimException(dir + ": no such directory");
        Path meta = dir.resolve("batches.meta.txt");
        if (!Files.isRegularFile(meta)) return DEFAULT_CLASSES;
        try {
            List<String> names = new ArrayList<>();
            for (String line : Files.readAllLines(meta)) if (!line.isBlank()) names.add(line.trim());
            if (names.size() < DEFAULT_CLASSES.size()) {
                throw new NetslimException(meta + ": " + names.size() + " class names, CIFAR-10 has 10");
            }
            return names;
        } catch (IOException e) {
            throw new NetslimException(meta + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
