package netslim.io;

import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;
import netslim.train.Checkpoint;

/**
 * Fuzzes the .nsm reader (a ZIP of graph.json and .npy entries) and the checkpoint reader on top of it: model
 * loading, entry listing and reading, and {@link Checkpoint#load} (train_state.json, optimiser tensors).
 */
class NsmFuzzTest {
    private static final Path DIR = FuzzContract.scratchDirectory("nsm-fuzz");

    @FuzzTest
    void nsm(byte[] data) throws Exception {
        Path file = DIR.resolve("fuzz.nsm");
        Files.write(file, data);
        FuzzContract.loadsOrRefuses(() -> ModelFiles.load(file));
        FuzzContract.loadsOrRefuses(() -> {
            for (String entry : Nsm.entryNames(file)) Nsm.readEntry(file, entry);
        });
        FuzzContract.loadsOrRefuses(() -> Checkpoint.load(file));
    }
}
