package netslim.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.google.gson.JsonObject;

import netslim.io.OnnxExporter;
import netslim.nn.Graph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code export}: any model to ONNX (opset 13, BatchNorm folded, dynamic batch), written atomically. */
@Command(name = "export", description = "Write a model as ONNX (opset 13, BatchNorm folded into convs, dynamic batch).")
final class ExportCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--onnx", required = true, paramLabel = "OUT.onnx", description = "Where to write the ONNX model.")
    Path onnx;

    @Option(names = "--input", paramLabel = "CxHxW", description = "Input shape for zoo models (default: the model's).")
    String input;

    @Option(names = "--json", description = "One JSON object on stdout.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Graph g = model.load(ModelOptions.parseInputShape(input));
        OnnxExporter.Summary s = OnnxExporter.export(g, onnx);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            JsonObject o = new JsonObject();
            o.addProperty("model", model.displayName());
            o.addProperty("onnx", onnx.toString());
            o.addProperty("opset", OnnxExporter.OPSET);
            o.add("input", Json.shape(g.inputShape()));
            o.addProperty("nodes", s.nodes());
            o.addProperty("initializers", s.initializers());
            o.addProperty("batchnorm_folded", s.batchNormsFolded());
            o.addProperty("bytes", s.bytes());
            out.println(Json.write(o));
        } else {
            out.printf("wrote %s: %d ONNX nodes (opset %d), %d BatchNorms folded into convs, input Nx%s, %.1f MB%n",
                    onnx, s.nodes(), OnnxExporter.OPSET, s.batchNormsFolded(), g.inputShape(), s.bytes() / 1e6);
        }
        return 0;
    }
}
