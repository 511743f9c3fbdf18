package netslim.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.io.Npy;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code run}: inference on a float32 NCHW .npy batch, logits written to .npy. */
@Command(name = "run", description = "Inference on a float32 NCHW .npy batch; writes the logits as .npy.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    DeviceOptions device;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "Input batch (N, C, H, W).")
    Path inputFile;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "Where to write the logits.")
    Path outputFile;

    @Override
    public Integer call() {
        Graph g = model.load();
        if (!Files.isRegularFile(inputFile)) throw new NetslimException(inputFile + ": no such input file");
        Tensor x = Npy.read(inputFile);
        Shape want = g.inputShape();
        Shape got = x.shape();
        if (got.rank() != want.rank() + 1 || !got.with(0, 1).equals(Shape.of(1, want.dim(0), want.dim(1), want.dim(2)))) {
            throw new NetslimException(inputFile + ": shape " + got + " does not fit the model's input Nx" + want);
        }
        Tensor y;
        try (Backend b = device.open(); Executor ex = new Executor(g, b, got.dim(0), Executor.Mode.INFERENCE)) {
            y = ex.forwardToHost(x);
        }
        int bad = 0;
        for (float v : y.toArray()) if (!Float.isFinite(v)) bad++;
        if (bad > 0) {
            System.err.println("netslim: warning: " + bad + " of " + y.size()
                    + " outputs are NaN or infinite (overflow in the model or NaN in the input)");
        }
        Npy.write(outputFile, y);
        System.err.println("netslim: wrote " + outputFile + " " + y.shape());
        return 0;
    }
}
