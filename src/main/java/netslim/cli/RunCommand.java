package netslim.cli;

import java.io.PrintWriter;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!Files.isRegularFile(inputFile)) throw new NetslimException(inputFile + ": no such input file");
        OutputPaths.requireWritableFile(outputFile, "--output");
        Tensor x = Npy.read(inputFile);
        Shape got = x.shape();
        if (got.rank() != 4 || got.dim(0) == 0) {
            throw new NetslimException(inputFile + ": expected a float32 NCHW batch, got shape " + got);
        }
        // A zoo model is built for the batch's C x H x W; a model file must already take it.
        Graph g = model.load(model.isFile() ? null : Shape.of(got.dim(1), got.dim(2), got.dim(3)));
        Shape want = g.inputShape();
        if (!Shape.of(got.dim(1), got.dim(2), got.dim(3)).equals(want)) {
            throw new NetslimException(inputFile + ": shape " + got + " does not fit the model's input Nx" + want);
        }
        Tensor y;
        try (Backend b = device.open(); Executor ex = Executor.forInference(g, b, got.dim(0))) {
            y = ex.forwardToHost(x);
        }
        PrintWriter err = spec.commandLine().getErr();
        int bad = 0;
        for (float v : y.toArray()) if (!Float.isFinite(v)) bad++;
        if (bad > 0) {
            err.println("netslim: warning: " + bad + " of " + y.size()
                    + " outputs are NaN or infinite (overflow in the model or NaN in the input)");
        }
        Npy.write(outputFile, y);
        err.println("netslim: wrote " + outputFile + " " + y.shape());
        err.flush();
        return 0;
    }
}
