package netslim.io;

import java.nio.file.Path;

import netslim.NetslimException;
import netslim.nn.Graph;

/** Loads a model file by extension: .nsm or .onnx. */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static Graph load(Path file) {
        String n = file.getFileName().toString().toLowerCase();
        if (n.endsWith(".nsm")) return Nsm.load(file);
        if (n.endsWith(".onnx")) return OnnxImporter.load(file);
        throw new NetslimException(file + ": unknown model file type (expected .nsm or .onnx)");
    }
}
