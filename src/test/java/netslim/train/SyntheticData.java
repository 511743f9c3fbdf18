package netslim.train;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import netslim.data.Dataset;
import netslim.data.Normalization;
import java.util.zip.GZIPOutputStream;

import netslim.tensor.Rng;

/**
 * A seeded in-memory dataset for trainer tests: {@code classes} classes of 1×S×S images; class k lights up the k-th
 * of {@code classes} horizontal bands (value ~0.9) over a noisy background (~0.1), so the classes are linearly
 * separable and a tiny conv net learns them perfectly.
 */
public final class SyntheticData implements Dataset {
    private final String name;
    private final int size, side, classes;
    private final float[] pixels;
    private final int[] labels;

    public SyntheticData(String name, int size, int side, int classes, long seed) {
        this.name = name;
        this.size = size;
        this.side = side;
        this.classes = classes;
        Rng rng = new Rng(seed);
        pixels = new float[size * side * side];
        labels = new int[size];
        int band = side / classes;
        for (int i = 0; i < size; i++) {
            int k = rng.nextInt(classes);
            labels[i] = k;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    boolean lit = y >= k * band && y < (k + 1) * band;
                    pixels[i * side * side + y * side + x] = (lit ? 0.8f : 0.05f) + 0.15f * rng.nextFloat();
                }
            }
        }
    }

    /**
     * Writes an IDX directory (gzipped train-/t10k- images and labels, as Fashion-MNIST ships) with {@code train}
     * and {@code test} examples of 10 classes of 1×side×side images, for CLI tests with {@code --data idx:DIR}.
     */
    public static void writeIdxDir(Path dir, int side, int train, int test, long seed) throws IOException {
        Files.createDirectories(dir);
        new SyntheticData("train", train, side, 10, seed).writeIdx(dir, "train");
        new SyntheticData("test", test, side, 10, seed + 1).writeIdx(dir, "t10k");
    }

    private void writeIdx(Path dir, String prefix) throws IOException {
        ByteArrayOutputStream images = new ByteArrayOutputStream(), labs = new ByteArrayOutputStream();
        try (DataOutputStream img = new DataOutputStream(images); DataOutputStream lab = new DataOutputStream(labs)) {
            img.writeInt(0x803);
            img.writeInt(size);
            img.writeInt(side);
            img.writeInt(side);
            for (float v : pixels) img.writeByte(Math.min(255, Math.round(v * 255)));
            lab.writeInt(0x801);
            lab.writeInt(size);
            for (int l : labels) lab.writeByte(l);
        }
        gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"), images.toByteArray());
        gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), labs.toByteArray());
    }

    private static void gzip(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(bytes);
        }
    }

    /** The same images with one label replaced (for the label-range check). */
    SyntheticData withLabel(int index, int label) {
        SyntheticData d = new SyntheticData(name, size, side, classes, 0);
        System.arraycopy(pixels, 0, d.pixels, 0, pixels.length);
        System.arraycopy(labels, 0, d.labels, 0, labels.length);
        d.labels[index] = label;
        return d;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return side;
    }

    @Override
    public int width() {
        return side;
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public List<String> classNames() {
        List<String> n = new ArrayList<>();
        for (int k = 0; k < classes; k++) n.add("band" + k);
        return n;
    }

    @Override
    public int label(int i) {
        return labels[i];
    }

    @Override
    public void copyPixels(int i, float[] dst, int offset) {
        System.arraycopy(pixels, i * side * side, dst, offset, side * side);
    }

    @Override
    public Normalization defaultNormalization() {
        return Normalization.of(0.3f, 0.35f);
    }
}
