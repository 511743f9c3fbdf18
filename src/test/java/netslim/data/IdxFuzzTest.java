package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/**
 * Fuzzes the IDX reader (raw or gzipped MNIST files): each input is read as an image file and as a label file, and
 * as the images of a dataset directory whose labels are valid.
 */
class IdxFuzzTest {
    private static final Path DIR = FuzzContract.scratchDirectory("idx-fuzz");

    @FuzzTest
    void idx(byte[] data) throws Exception {
        Path file = DIR.resolve("fuzz-idx");
        Files.write(file, data);
        FuzzContract.loadsOrRefuses(() -> Idx.readImages(file, 0));
        FuzzContract.loadsOrRefuses(() -> Idx.readImages(file, 2));
        FuzzContract.loadsOrRefuses(() -> Idx.readLabels(file, 0));
        Path set = DIR.resolve("set");
        Files.createDirectories(set);
        Files.write(set.resolve("t10k-images-idx3-ubyte"), data);
        Files.write(set.resolve("t10k-labels-idx1-ubyte"), DataFixtures.idxLabels(new int[] {0, 1, 2}));
        FuzzContract.loadsOrRefuses(() -> IdxDataset.open(set, Split.TEST, 0));
    }
}
