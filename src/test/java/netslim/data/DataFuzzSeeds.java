package netslim.data;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

import javax.imageio.ImageIO;

/**
 * Writes the starting seeds of the data fuzz tests ({@link IdxFuzzTest}, {@link Cifar10FuzzTest},
 * {@link ImageFolderFuzzTest}) under {@code src/test/resources/netslim/data/<Class>Inputs/<method>/}; regression
 * seeds of bugs ({@code bug-*}) are added by hand. Run like {@code netslim.io.IoFuzzSeeds} (README "Reliability").
 */
public final class DataFuzzSeeds {
    private DataFuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources");
        Path idx = root.resolve("netslim/data/IdxFuzzTestInputs/idx");
        byte[] images = DataFixtures.idxImages(3, 4, 5, DataFixtures.randomBytes(60, 1));
        byte[] labels = DataFixtures.idxLabels(new int[] {0, 1, 2});
        write(idx, "images-3x4x5", images);
        write(idx, "images-3x4x5.gz", DataFixtures.gzip(images));
        write(idx, "labels-3", labels);
        write(idx, "labels-3.gz", DataFixtures.gzip(labels));
        write(idx, "images-claim-huge", DataFixtures.idxImages(1 << 20, 1 << 10, 1 << 10, new byte[16]));

        Path cifar = root.resolve("netslim/data/Cifar10FuzzTestInputs/cifar10");
        write(cifar, "one-record.bin", DataFixtures.cifarRecords(new int[] {3},
                DataFixtures.randomBytes(Cifar10Dataset.IMAGE_BYTES, 2)));
        write(cifar, "label-11.bin", DataFixtures.cifarRecords(new int[] {11}, new byte[Cifar10Dataset.IMAGE_BYTES]));
        write(cifar, "meta.txt", String.join("\n", Cifar10Dataset.DEFAULT_CLASSES).getBytes(StandardCharsets.UTF_8));

        Path img = root.resolve("netslim/data/ImageFolderFuzzTestInputs/image");
        write(img, "rgb-6x7.png", encode(DataFixtures.rgb(6, 7, DataFixtures.randomBytes(126, 3)), "png"));
        write(img, "gray-5x5.png", encode(DataFixtures.gray(5, 5, DataFixtures.randomBytes(25, 4)), "png"));
        write(img, "rgb-8x8.jpg", encode(DataFixtures.rgb(8, 8, DataFixtures.randomBytes(192, 5)), "jpeg"));
        write(img, "gray-9x4.jpg", encode(DataFixtures.gray(9, 4, DataFixtures.randomBytes(36, 6)), "jpeg"));
        write(img, "palette-4x4.png", encode(palette(), "png"));
        write(img, "rgb-3x3.bmp", encode(DataFixtures.rgb(3, 3, DataFixtures.randomBytes(27, 7)), "bmp"));
        write(img, "rgb-3x3.gif", encode(DataFixtures.rgb(3, 3, DataFixtures.randomBytes(27, 8)), "gif"));
        write(img, "claims-60000x60000.png", withPngSize(encode(DataFixtures.gray(2, 2, new byte[4]), "png"),
                60000, 60000));
    }

    /** A 1-bit palette image. */
    private static BufferedImage palette() {
        IndexColorModel cm = new IndexColorModel(1, 2, new byte[] {0, (byte) 255}, new byte[] {0, 0},
                new byte[] {0, (byte) 255});
        BufferedImage b = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_BINARY, cm);
        for (int i = 0; i < 4; i++) b.setRGB(i, i, 0xffff00ff);
        return b;
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, b)) throw new IllegalStateException("no writer for " + format);
        return b.toByteArray();
    }

    /** The same PNG with its IHDR claiming another size (CRC fixed, so only the size is a lie). */
    static byte[] withPngSize(byte[] png, int width, int height) {
        byte[] p = png.clone();
        putInt(p, 16, width);
        putInt(p, 20, height);
        CRC32 crc = new CRC32();
        crc.update(p, 12, 17); // "IHDR" and its 13 data bytes
        putInt(p, 29, (int) crc.getValue());
        return p;
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    static void write(Path dir, String name, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), bytes);
    }
}
