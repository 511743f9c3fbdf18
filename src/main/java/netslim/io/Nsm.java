package netslim.io;

import java.nio.file.Path;

import netslim.nn.Graph;

/** The .nsm model format: a ZIP readable by numpy.load as .npz (graph.json + one .npy per tensor). */
public final class Nsm {
    private Nsm() {
    }

    public static void save(Graph g, Path file) {
        throw new UnsupportedOperationException("TODO(io helper)");
    }

    public static Graph load(Path file) {
        throw new UnsupportedOperationException("TODO(io helper)");
    }
}
