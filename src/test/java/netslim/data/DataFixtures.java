package netslim.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import javax.imageio.ImageIO;

import netslim.tensor.Rng;

/** Writes tiny datasets in the real file formats, from seeded random pixels, for the reader and loader tests. */
final class DataFixtures {
    private DataFixtures() {
    }

    /** Seeded random bytes. */
    static byte[] randomBytes(int n, long seed) {
        Rng rng = new Rng(seed);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) rng.nextInt(256);
        return b;
    }

    static int[] randomLabels(int n, int classes, long seed) {
        Rng rng = new Rng(seed);
        int[] l = new int[n];
        for (int i = 0; i < n; i++) l[i] = rng.nextInt(classes);
        return l;
    }

    /** An IDX image file (magic 0x803, count, rows, cols, bytes), gzipped when {@code gz}. */
    static byte[] idxImages(int count, int rows, int cols, byte[] pixels) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(Idx.IMAGES_MAGIC);
            out.writeInt(count);
            out.writeInt(rows);
            out.writeInt(cols);
            out.write(pixels);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] idxLabels(int[] labels) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(Idx.LABELS_MAGIC);
            out.writeInt(labels.length);
            for (int l : labels) out.writeByte(l);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static void write(Path file, byte[] content) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A complete IDX directory (train and t10k) with the given examples in both splits. */
    static void writeIdxDir(Path dir, int rows, int cols, byte[] pixels, int[] labels, boolean gz) {
        String suffix = gz ? ".gz" : "";
        for (String prefix : List.of("train", "t10k")) {
            byte[] images = idxImages(labels.length, rows, cols, pixels), lab = idxLabels(labels);
            write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix), gz ? gzip(images) : images);
            write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix), gz ? gzip(lab) : lab);
        }
    }

    /** CIFAR-10 records: label byte then 3072 pixel bytes each. */
    static byte[] cifarRecords(int[] labels, byte[] pixels) {
        byte[] out = new byte[labels.length * Cifar10Dataset.RECORD_BYTES];
        for (int i = 0; i < labels.length; i++) {
            out[i * Cifar10Dataset.RECORD_BYTES] = (byte) labels[i];
            System.arraycopy(pixels, i * Cifar10Dataset.IMAGE_BYTES, out, i * Cifar10Dataset.RECORD_BYTES + 1,
                    Cifar10Dataset.IMAGE_BYTES);
        }
        return out;
    }

    static void writePng(Path file, BufferedImage img) {
        writeImage(file, img, "png");
    }

    static void writeImage(Path file, BufferedImage img, String format) {
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(img, format, file.toFile())) throw new IllegalStateException("no ImageIO writer for " + format);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An 8-bit gray image from bytes (row-major). */
    static BufferedImage gray(int h, int w, byte[] px) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setDataElements(0, 0, w, h, px);
        return img;
    }

    /** An RGB image from CHW bytes. */
    static BufferedImage rgb(int h, int w, byte[] chw) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                img.setRGB(x, y, (chw[i] & 0xff) << 16 | (chw[plane + i] & 0xff) << 8 | (chw[2 * plane + i] & 0xff));
            }
        }
        return img;
    }
}
