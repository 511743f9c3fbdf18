package netslim.data;

import static netslim.data.Errors.assertNamesFile;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CIFAR-10 binary reader on tiny generated batches: exact round trip across files, names, corrupt files. */
class Cifar10DatasetTest {
    static final int PER_FILE = 3, IMG = Cifar10Dataset.IMAGE_BYTES;

    @TempDir
    Path dir;

    byte[][] pixels = new byte[6][];
    int[][] labels = new int[6][];

    /** data_batch_1..5 with 3 records each and test_batch with 3 (index 5). */
    @BeforeEach
    void writeBatches() {
        List<String> names = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin", "test_batch.bin");
        for (int f = 0; f < names.size(); f++) {
            pixels[f] = DataFixtures.randomBytes(PER_FILE * IMG, 100 + f);
            labels[f] = DataFixtures.randomLabels(PER_FILE, 10, 200 + f);
            DataFixtures.write(dir.resolve(names.get(f)), DataFixtures.cifarRecords(labels[f], pixels[f]));
        }
    }

    @Test
    void readsTrainAndTestBackExactly() {
        ByteImageDataset train = Cifar10Dataset.open(dir, Split.TRAIN, 0);
        assertEquals(5 * PER_FILE, train.size());
        assertEquals(3, train.channels());
        assertEquals(32, train.height());
        assertEquals(Cifar10Dataset.DEFAULT_CLASSES, train.classNames());
        assertEquals(Normalization.CIFAR10, train.defaultNormalization());
        for (int i = 0; i < train.size(); i++) assertExample(train, i, i / PER_FILE, i % PER_FILE);
        ByteImageDataset test = Cifar10Dataset.open(dir, Split.TEST, 0);
        assertEquals(PER_FILE, test.size());
        for (int i = 0; i < PER_FILE; i++) assertExample(test, i, 5, i);
    }

    private void assertExample(ByteImageDataset d, int i, int file, int record) {
        assertEquals(labels[file][record], d.label(i), "label of example " + i);
        float[] px = new float[IMG];
        d.copyPixels(i, px, 0);
        for (int k = 0; k < IMG; k++) {
            assertEquals((pixels[file][record * IMG + k] & 0xff) / 255f, px[k], "example " + i + " element " + k);
        }
    }

    @Test
    void limitSpansFilesAndStopsEarly() {
        ByteImageDataset d = Cifar10Dataset.open(dir, Split.TRAIN, 4);
        assertEquals(4, d.size());
        assertExample(d, 3, 1, 0);
        // files past the limit are not opened, so a broken later batch does not matter
        DataFixtures.write(dir.resolve("data_batch_5.bin"), new byte[7]);
        assertEquals(4, Cifar10Dataset.open(dir, Split.TRAIN, 4).size());
    }

    @Test
    void classNamesFromMeta() {
        List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        DataFixtures.write(dir.resolve("batches.meta.txt"), (String.join("\n", names) + "\n\n").getBytes());
        assertEquals(names, Cifar10Dataset.open(dir, Split.TEST, 0).classNames());
        DataFixtures.write(dir.resolve("batches.meta.txt"), "a\nb\n".getBytes());
        assertNamesFile(dir.resolve("batches.meta.txt"), "2 class names", () -> Cifar10Dataset.open(dir, Split.TEST, 0));
    }

    @Test
    void truncatedBatchNamesTheFile() {
        Path f = dir.resolve("data_batch_3.bin");
        byte[] all = DataFixtures.cifarRecords(labels[2], pixels[2]);
        DataFixtures.write(f, Arrays.copyOf(all, all.length - 100));
        assertNamesFile(f, "3073-byte", () -> Cifar10Dataset.open(dir, Split.TRAIN, 0));
    }

    @Test
    void corruptLabelNamesTheFile() {
        Path f = dir.resolve("test_batch.bin");
        byte[] all = DataFixtures.cifarRecords(labels[5], pixels[5]);
        all[Cifar10Dataset.RECORD_BYTES] = (byte) 200; // second record's label
        DataFixtures.write(f, all);
        assertNamesFile(f, "label 200", () -> Cifar10Dataset.open(dir, Split.TEST, 0));
    }

    @Test
    void missingBatchNamesTheFile() {
        Path f = dir.resolve("data_batch_4.bin");
        f.toFile().delete();
        assertNamesFile(f, "no such file", () -> Cifar10Dataset.open(dir, Split.TRAIN, 0));
    }
}
