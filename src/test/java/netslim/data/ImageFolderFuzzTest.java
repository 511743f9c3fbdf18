package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/**
 * Fuzzes the ImageFolder reader through its image decoding (ImageIO, then channel conversion, resize and crop):
 * each input is the one image of a one-class folder, read as 3 channels and as 1.
 */
class ImageFolderFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest
    void image(byte[] data) throws Exception {
        Path cls = dir.resolve("train").resolve("a");
        Files.createDirectories(cls);
        Files.write(cls.resolve("x.png"), data);
        FuzzContract.loadsOrRefuses(() -> ImageFolderDataset.open(dir, Split.TRAIN, 0, 3, 12, 10));
        FuzzContract.loadsOrRefuses(() -> ImageFolderDataset.open(dir, Split.TRAIN, 0, 1, 8, 8));
    }
}
