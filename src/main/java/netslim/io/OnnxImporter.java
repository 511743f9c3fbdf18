package netslim.io;

import java.nio.file.Path;

import netslim.nn.Graph;

/** Imports an ONNX model (what PyTorch exports for CNNs) into a {@link Graph}. */
public final class OnnxImporter {
    private OnnxImporter() {
    }

    public static Graph load(Path file) {
        throw new UnsupportedOperationException("TODO(io helper)");
    }
}
