package netslim.data;

import static netslim.data.Errors.assertNamesFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ImageFolder on generated PNG and JPEG files: exact round trip, channel conversion, resize + crop, errors. */
class ImageFolderDatasetTest {
    static final int S = 6;

    @TempDir
    Path root;

    /** train/{cat,dog}/ with 2 and 3 gray PNGs, test/dog/ with one; returns train pixels by [class][file]. */
    private byte[][][] writeGrayFolder() {
        byte[][][] px = new byte[2][3][];
        String[] classes = {"cat", "dog"};
        int[] counts = {2, 3};
        for (int c = 0; c < 2; c++) {
            for (int f = 0; f < counts[c]; f++) {
                px[c][f] = DataFixtures.randomBytes(S * S, 10 * c + f);
                DataFixtures.writePng(root.resolve("train/" + classes[c] + "/img" + f + ".png"), DataFixtures.gray(S, S, px[c][f]));
            }
        }
        DataFixtures.writePng(root.resolve("test/dog/x.PNG"), DataFixtures.gray(S, S, px[1][0]));
        DataFixtures.write(root.resolve("train/dog/notes.txt"), "not an image".getBytes());
        return px;
    }

    @Test
    void grayPngReadsBackExactlyInInterleavedOrder() {
        byte[][][] px = writeGrayFolder();
        ByteImageDataset d = ImageFolderDataset.open(root, Split.TRAIN, 0, 1, S, S);
        assertEquals(List.of("cat", "dog"), d.classNames());
        assertEquals(5, d.size());
        // order: cat0, dog0, cat1, dog1, dog2
        int[][] expected = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {1, 2}};
        for (int i = 0; i < 5; i++) {
            assertEquals(expected[i][0], d.label(i), "label " + i);
            byte[] want = px[expected[i][0]][expected[i][1]];
            for (int k = 0; k < S * S; k++) assertEquals(want[k] & 0xff, d.pixelByte(i, k), "example " + i + " pixel " + k);
        }
        ByteImageDataset limited = ImageFolderDataset.open(root, Split.TRAIN, 2, 1, S, S);
        assertEquals(0, limited.label(0));
        assertEquals(1, limited.label(1), "a limit takes every class before the second file of any");
        ByteImageDataset test = ImageFolderDataset.open(root, Split.TEST, 0, 1, S, S);
        assertEquals(1, test.size());
        assertEquals(1, test.label(0), "test labels use the train class mapping");
        assertEquals(Normalization.HALF.forChannels(1), test.defaultNormalization());
    }

    @Test
    void rgbPngReadsBackExactlyAndConvertsChannels() {
        byte[] chw = DataFixtures.randomBytes(3 * S * S, 5);
        DataFixtures.writePng(root.resolve("train/a/rgb.png"), DataFixtures.rgb(S, S, chw));
        ByteImageDataset rgb = ImageFolderDataset.open(root, Split.TRAIN, 0, 3, S, S);
        for (int k = 0; k < 3 * S * S; k++) assertEquals(chw[k] & 0xff, rgb.pixelByte(0, k), "element " + k);
        ByteImageDataset luma = ImageFolderDataset.open(root, Split.TRAIN, 0, 1, S, S);
        for (int k = 0; k < S * S; k++) {
            double y = 0.299 * (chw[k] & 0xff) + 0.587 * (chw[S * S + k] & 0xff) + 0.114 * (chw[2 * S * S + k] & 0xff);
            assertEquals(Math.round(y), luma.pixelByte(0, k), 1.0, "luminance " + k);
        }
        byte[] g = DataFixtures.randomBytes(S * S, 6);
        DataFixtures.writePng(root.resolve("train/b/gray.png"), DataFixtures.gray(S, S, g));
        ByteImageDataset both = ImageFolderDataset.open(root, Split.TRAIN, 0, 3, S, S);
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < S * S; k++) assertEquals(g[k] & 0xff, both.pixelByte(1, c * S * S + k), "gray to RGB");
        }
    }

    @Test
    void jpegDecodesCloseToItsColour() {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) img.setRGB(x, y, 200 << 16 | 100 << 8 | 30);
        DataFixtures.writeImage(root.resolve("train/c/solid.jpg"), img, "jpg");
        ByteImageDataset d = ImageFolderDataset.open(root, Split.TRAIN, 0, 3, 16, 16);
        int[] want = {200, 100, 30};
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < 256; k++) {
                // JPEG is lossy (chroma subsampling, quantisation): a flat colour survives within a few levels
                assertEquals(want[c], d.pixelByte(0, c * 256 + k), 6.0, "channel " + c + " pixel " + k);
            }
        }
    }

    @Test
    void resizesTheShorterSideThenCropsTheCentre() {
        // 32 rows × 64 columns: columns 0–15 = 10, 16–47 = 200, 48–63 = 50. To 16×16: scale ½ (shorter side 32 → 16)
        // gives 16×32, whose centre 16 columns come from original columns 16–47: all 200.
        byte[] px = new byte[32 * 64];
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 64; x++) px[y * 64 + x] = (byte) (x < 16 ? 10 : x < 48 ? 200 : 50);
        }
        DataFixtures.writePng(root.resolve("train/wide/w.png"), DataFixtures.gray(32, 64, px));
        ByteImageDataset d = ImageFolderDataset.open(root, Split.TRAIN, 0, 1, 16, 16);
        for (int k = 0; k < 256; k++) assertEquals(200, d.pixelByte(0, k), "pixel " + k);
        // Upscaling a 2×2 checker to 4×4 (scale 2, bilinear with pixel centres): corners keep their values,
        // and every value stays between the two source levels.
        DataFixtures.writePng(root.resolve("train/wide/w.png"), DataFixtures.gray(2, 2, new byte[] {0, 100, 100, 0}));
        ByteImageDataset up = ImageFolderDataset.open(root, Split.TRAIN, 0, 1, 4, 4);
        assertEquals(0, up.pixelByte(0, 0));
        assertEquals(100, up.pixelByte(0, 3));
        // output (1, 1) samples source (0.25, 0.25): rows 25 and 75, then 0.75·25 + 0.25·75 = 37.5 → 38;
        // output (1, 2) samples (0.25, 0.75): 0.75·75 + 0.25·25 = 62.5 → 63
        assertEquals(38, up.pixelByte(0, 5));
        assertEquals(63, up.pixelByte(0, 6));
        for (int k = 0; k < 16; k++) assertTrue(up.pixelByte(0, k) <= 100);
    }

    @Test
    void undecodableImageNamesTheFile() {
        writeGrayFolder();
        Path bad = root.resolve("train/cat/broken.png");
        DataFixtures.write(bad, "definitely not a PNG".getBytes());
        assertNamesFile(bad, "not an image format", () -> ImageFolderDataset.open(root, Split.TRAIN, 0, 1, S, S));
        byte[] png = java.util.Arrays.copyOf(pngBytes(), 40); // a real PNG header, cut short
        DataFixtures.write(bad, png);
        assertNamesFile(bad, "cannot decode", () -> ImageFolderDataset.open(root, Split.TRAIN, 0, 1, S, S));
    }

    private byte[] pngBytes() {
        Path tmp = root.resolve("tmp/t.png");
        DataFixtures.writePng(tmp, DataFixtures.gray(S, S, DataFixtures.randomBytes(S * S, 1)));
        try {
            return java.nio.file.Files.readAllBytes(tmp);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void testClassUnknownToTrainIsAnError() {
        writeGrayFolder();
        DataFixtures.writePng(root.resolve("test/zebra/z.png"), DataFixtures.gray(S, S, new byte[S * S]));
        assertNamesFile(root.resolve("test/zebra"), "not among the train classes",
                () -> ImageFolderDataset.open(root, Split.TEST, 0, 1, S, S));
    }

    @Test
    void missingSplitDirectoryIsClear() {
        writeGrayFolder();
        Path other = root.resolve("nothing");
        assertNamesFile(other.resolve("train"), "no such directory", () -> ImageFolderDataset.open(other, Split.TRAIN, 0, 3, S, S));
    }
}
