package netslim.nn.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.ReferenceKernels;
import netslim.io.Npy;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * The files of src/test/python/make_golden.py (classpath {@code /golden/}): gzipped ONNX exports, inputs and
 * PyTorch's logits, plus running a graph on them and comparing.
 */
final class GoldenFiles {
    /**
     * PyTorch and netslim sum in different orders in float32; at these depths that leaves ~1e-6 relative error, so
     * 1e-4 relative L2 is loose enough for any correct kernel and far below what a wrong layer gives (~1).
     */
    static final double MAX_REL_L2 = 1e-4;

    private GoldenFiles() {
    }

    /** The backends the golden tests run on: the scalar spec and the CPU backend as users get it. */
    enum Engine {
        /** CPU_SERVING: the serving plan (BatchNorm folded, conv + ReLU fused, Winograd where it pays). */
        REFERENCE, CPU, CPU_SERVING;

        Backend create() {
            return this == REFERENCE ? ReferenceKernels.create() : CpuBackend.createDefault();
        }
    }

    static Tensor input(String model) {
        return npy(model + ".input.npy");
    }

    static Tensor logits(String model) {
        return npy(model + ".output.npy");
    }

    private static Tensor npy(String file) {
        try (InputStream in = open(file)) {
            return Npy.read(in, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unzips {@code model[.folded].onnx.gz} into {@code dir} (the importer reads files) and returns the path. */
    static Path onnx(String model, boolean folded, Path dir) {
        String base = model + (folded ? ".folded" : "") + ".onnx";
        Path out = dir.resolve(base);
        if (Files.exists(out)) return out;
        try (InputStream in = new GZIPInputStream(open(base + ".gz"))) {
            Files.copy(in, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static InputStream open(String file) {
        InputStream in = GoldenFiles.class.getResourceAsStream("/golden/" + file);
        if (in == null) throw new IllegalStateException("missing golden file " + file + "; run src/test/python/make_golden.py");
        return in;
    }

    /** Inference on {@code engine}; returns the logits on the host. */
    static Tensor run(Graph g, Engine engine, Tensor input) {
        try (Backend backend = engine.create();
             Executor ex = engine == Engine.CPU_SERVING ? Executor.forInference(g, backend, input.shape().n())
                     : new Executor(g, backend, input.shape().n(), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(input);
        }
    }

    /** Relative L2 ≤ {@link #MAX_REL_L2}, then elementwise (logits are O(1): atol 1e-4, rtol 1e-3). */
    static void assertMatchesPyTorch(Tensor actual, Tensor expected, String what) {
        double err = Close.relL2(actual.toArray(), expected.toArray());
        assertTrue(err <= MAX_REL_L2, what + ": relative L2 error " + err + " > " + MAX_REL_L2);
        Close.assertClose(actual, expected, 1e-4, 1e-3, what);
    }
}
