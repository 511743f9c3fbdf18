package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/**
 * Fuzzes the ImageFolder reader through its image decoding (ImageIO, then channel conversion, resize and crop):
 * each input is the one image of a one-class folder, read as 3 channels and as 1.
 */
class ImageFolderFuzzTest {
    private static final Path DIR = FuzzContract.scratchDirectory("imagefolder-fuzz");

    @FuzzTest
    void image(byte[] data) throws Exception {
        Path cls = DIR.resolve("train").resolve("a");
        Files.createDirectories(cls);
        Files.write(cls.resolve("x.png"), data);
        FuzzContract.loadsOrRefuses(() -> ImageFolderDataset.open(DIR, Split.TRAIN, 0, 3, 12, 10));
        FuzzContract.loadsOrRefuses(() -> ImageFolderDataset.open(DIR, Split.TRAIN, 0, 1, 8, 8));
    }
}
