package netslim.io;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.io.TempDir;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/** Fuzzes the ONNX importer: protobuf parsing, initializer decoding and the op translation into a Graph. */
class OnnxFuzzTest {
    @TempDir
    static Path dir;

    @FuzzTest
    void onnx(byte[] data) throws Exception {
        Path file = dir.resolve("fuzz.onnx");
        Files.write(file, data);
        FuzzContract.loadsOrRefuses(() -> ModelFiles.load(file));
        FuzzContract.loadsOrRefuses(() -> OnnxImporter.initializers(file));
    }
}
