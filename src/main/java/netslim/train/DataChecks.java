package netslim.train;

import netslim.NetslimException;
import netslim.data.Dataset;
import netslim.nn.Graph;
import netslim.tensor.Shape;

/** The checks that run before any training step: the data must fit the model. Each failure is one line. */
public final class DataChecks {
    private DataChecks() {
    }

    /** Input size, class count and every label of {@code data} against {@code model} (named {@code modelName}). */
    public static void check(Graph model, String modelName, Dataset data) {
        Shape in = model.inputShape();
        Shape images = Shape.of(data.channels(), data.height(), data.width());
        if (!in.equals(images)) {
            String what = in.dim(0) != images.dim(0) ? "channels" : "image size";
            throw new NetslimException("model " + modelName + " takes input " + in + " but " + data.name() + " has "
                    + images + " images (" + what + " differ)");
        }
        int outputs = outputs(model);
        if (outputs != data.numClasses()) {
            throw new NetslimException("model " + modelName + " has " + outputs + " outputs but " + data.name()
                    + " has " + data.numClasses() + " classes");
        }
        for (int i = 0; i < data.size(); i++) {
            int l = data.label(i);
            if (l < 0 || l >= outputs) {
                throw new NetslimException(data.name() + ": example " + i + " has label " + l + ", outside the model's "
                        + outputs + " classes [0, " + outputs + ")");
            }
        }
    }

    /** The number of classes a classifier graph outputs: its output must be (N, K). */
    public static int outputs(Graph model) {
        Shape out = model.shapes(1).get(model.outputName());
        if (out.rank() != 2) {
            throw new NetslimException("the model's output " + model.outputName() + " has shape " + out
                    + "; a classifier must output (N, classes)");
        }
        return out.dim(1);
    }
}
