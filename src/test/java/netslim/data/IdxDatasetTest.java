package netslim.data;

import static netslim.data.Errors.assertNamesFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The IDX reader and IdxDataset on tiny generated files: exact round trip, limits, corrupt and truncated files. */
class IdxDatasetTest {
    static final int N = 7, ROWS = 5, COLS = 4;
    static final byte[] PIXELS = DataFixtures.randomBytes(N * ROWS * COLS, 11);
    static final int[] LABELS = DataFixtures.randomLabels(N, 10, 12);

    @TempDir
    Path dir;

    @ParameterizedTest(name = "gz={0}")
    @ValueSource(booleans = {false, true})
    void readsBackExactly(boolean gz) {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, gz);
        for (Split split : Split.values()) {
            ByteImageDataset d = IdxDataset.open(dir, split, 0);
            assertEquals(N, d.size());
            assertEquals(1, d.channels());
            assertEquals(ROWS, d.height());
            assertEquals(COLS, d.width());
            assertEquals(10, d.numClasses());
            float[] px = new float[ROWS * COLS + 3];
            for (int i = 0; i < N; i++) {
                assertEquals(LABELS[i], d.label(i), "label " + i);
                d.copyPixels(i, px, 3);
                for (int k = 0; k < ROWS * COLS; k++) {
                    assertEquals((PIXELS[i * ROWS * COLS + k] & 0xff) / 255f, px[3 + k], "example " + i + " pixel " + k);
                }
            }
        }
    }

    @Test
    void limitKeepsTheFirstExamples() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, true);
        ByteImageDataset d = IdxDataset.open(dir, Split.TRAIN, 3);
        assertEquals(3, d.size());
        for (int i = 0; i < 3; i++) assertEquals(LABELS[i], d.label(i));
        assertEquals(N, IdxDataset.open(dir, Split.TRAIN, 100).size());
    }

    @Test
    void flavorFromPath() {
        assertEquals(IdxDataset.Flavor.FASHION_MNIST, IdxDataset.Flavor.guess(Path.of("/data/Fashion-MNIST")));
        assertEquals(IdxDataset.Flavor.MNIST, IdxDataset.Flavor.guess(Path.of("/data/mnist")));
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, false);
        ByteImageDataset d = IdxDataset.open(dir, Split.TEST, 0, IdxDataset.Flavor.FASHION_MNIST);
        assertEquals("Ankle boot", d.classNames().get(9));
        assertEquals(Normalization.FASHION_MNIST, d.defaultNormalization());
    }

    @ParameterizedTest(name = "gz={0}")
    @ValueSource(booleans = {false, true})
    void badMagicNamesTheFile(boolean gz) {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, gz);
        Path images = dir.resolve("train-images-idx3-ubyte" + (gz ? ".gz" : ""));
        byte[] labelsFile = DataFixtures.idxLabels(LABELS); // a label file where images are expected
        DataFixtures.write(images, gz ? DataFixtures.gzip(labelsFile) : labelsFile);
        assertNamesFile(images, "not an IDX image file", () -> IdxDataset.open(dir, Split.TRAIN, 0));
    }

    @ParameterizedTest(name = "gz={0}")
    @ValueSource(booleans = {false, true})
    void truncatedDataNamesTheFile(boolean gz) {
        byte[] full = DataFixtures.idxImages(N, ROWS, COLS, PIXELS);
        byte[] cut = Arrays.copyOf(full, full.length - 5);
        Path images = dir.resolve("train-images-idx3-ubyte" + (gz ? ".gz" : ""));
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, gz);
        DataFixtures.write(images, gz ? DataFixtures.gzip(cut) : cut);
        assertNamesFile(images, "truncated", () -> IdxDataset.open(dir, Split.TRAIN, 0));
        assertEquals(N - 1, IdxDataset.open(dir, Split.TRAIN, N - 1).size(), "a limit below the cut still reads");
    }

    @Test
    void gzipStreamCutShortNamesTheFile() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, true);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        byte[] gz = DataFixtures.gzip(DataFixtures.idxLabels(LABELS));
        DataFixtures.write(labels, Arrays.copyOf(gz, gz.length / 2));
        assertNamesFile(labels, "truncated", () -> IdxDataset.open(dir, Split.TEST, 0));
    }

    @Test
    void truncatedHeaderNamesTheFile() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        DataFixtures.write(images, Arrays.copyOf(DataFixtures.idxImages(N, ROWS, COLS, PIXELS), 10));
        assertNamesFile(images, "truncated", () -> IdxDataset.open(dir, Split.TRAIN, 0));
    }

    @Test
    void implausibleHeaderIsRejectedBeforeAllocating() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, false);
        Path images = dir.resolve("train-images-idx3-ubyte");
        DataFixtures.write(images, DataFixtures.idxImages(Integer.MAX_VALUE, 1000, 1000, new byte[0]));
        assertNamesFile(images, "implausible", () -> IdxDataset.open(dir, Split.TRAIN, 0));
        // a plausible but false count: the buffer grows with the data, so this is "truncated", not OutOfMemoryError
        DataFixtures.write(images, DataFixtures.idxImages(1_000_000, 28, 28, PIXELS));
        assertNamesFile(images, "truncated", () -> IdxDataset.open(dir, Split.TRAIN, 0));
    }

    @Test
    void countMismatchAndMissingFilesAreClear() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, false);
        DataFixtures.write(dir.resolve("train-labels-idx1-ubyte"), DataFixtures.idxLabels(Arrays.copyOf(LABELS, N - 2)));
        assertNamesFile(dir, "labels", () -> IdxDataset.open(dir, Split.TRAIN, 0));
        Path empty = dir.resolve("empty");
        assertNamesFile(empty, "t10k-images-idx3-ubyte", () -> IdxDataset.open(empty, Split.TEST, 0));
    }

    @Test
    void labelOutsideTheClassesIsClear() {
        int[] bad = LABELS.clone();
        bad[3] = 12;
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, bad, false);
        assertNamesFile(dir.resolve("train-labels-idx1-ubyte"), "label 12", () -> IdxDataset.open(dir, Split.TRAIN, 0));
    }

    @Test
    void legacyReaderAgrees() {
        DataFixtures.writeIdxDir(dir, ROWS, COLS, PIXELS, LABELS, true);
        Idx.Images im = Idx.readImages(dir.resolve("train-images-idx3-ubyte.gz"), 0);
        assertArrayEquals(PIXELS, im.pixels());
        assertArrayEquals(LABELS, Idx.readLabels(dir.resolve("train-labels-idx1-ubyte.gz"), 0));
    }
}
