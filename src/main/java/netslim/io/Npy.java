package netslim.io;

import java.nio.file.Path;

import netslim.tensor.Tensor;

/** NumPy .npy files: read (&lt;f4, &lt;f8; versions 1.0/2.0; C order) and write (&lt;f4, version 1.0). */
public final class Npy {
    private Npy() {
    }

    public static Tensor read(Path file) {
        throw new UnsupportedOperationException("TODO(io helper)");
    }

    /** Writes atomically (temporary file, then rename). */
    public static void write(Path file, Tensor t) {
        throw new UnsupportedOperationException("TODO(io helper)");
    }
}
