package netslim.io;

import java.nio.file.Files;
import java.nio.file.Path;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/** Fuzzes the ONNX importer: protobuf parsing, initializer decoding and the op translation into a Graph. */
class OnnxFuzzTest {
    private static final Path DIR = FuzzContract.scratchDirectory("onnx-fuzz");

    @FuzzTest
    void onnx(byte[] data) throws Exception {
        Path file = DIR.resolve("fuzz.onnx");
        Files.write(file, data);
        FuzzContract.loadsOrRefuses(() -> ModelFiles.load(file));
        FuzzContract.loadsOrRefuses(() -> OnnxImporter.initializers(file));
    }
}
