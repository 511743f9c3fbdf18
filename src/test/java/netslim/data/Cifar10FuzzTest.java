package netslim.data;

import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/** Fuzzes the CIFAR-10 binary reader: each input as a test batch file, and as the class-name file batches.meta.txt. */
class Cifar10FuzzTest {
    private static final Path DIR = FuzzContract.scratchDirectory("cifar10-fuzz");

    @FuzzTest
    void cifar10(byte[] data) throws Exception {
        Path batch = DIR.resolve("batch");
        Files.createDirectories(batch);
        Files.write(batch.resolve("test_batch.bin"), data);
        FuzzContract.loadsOrRefuses(() -> Cifar10Dataset.open(batch, Split.TEST, 0));
        FuzzContract.loadsOrRefuses(() -> Cifar10Dataset.open(batch, Split.TEST, 1));

        Path meta = DIR.resolve("meta");
        Files.createDirectories(meta);
        byte[] record = new byte[Cifar10Dataset.RECORD_BYTES];
        Files.write(meta.resolve("test_batch.bin"), record);
        Files.write(meta.resolve("batches.meta.txt"), data);
        FuzzContract.loadsOrRefuses(() -> Cifar10Dataset.open(meta, Split.TEST, 0));
    }
}
