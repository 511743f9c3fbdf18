package netslim.examples;

// README-BEGIN
import java.nio.file.Path;
import java.util.List;

import netslim.api.Device;
import netslim.api.NetslimModel;
import netslim.api.Prediction;

/** A classifier a Java service keeps for its lifetime and calls from all request threads. */
public final class ImageClassifier implements AutoCloseable {
    private final NetslimModel model;

    public ImageClassifier(Path modelFile) {
        // .nsm or .onnx; AUTO = the GPU when one works, else the CPU. Throws NetslimException naming the file.
        this.model = NetslimModel.load(modelFile, Device.AUTO);
    }

    /** Thread-safe, no locking needed: one image as C*H*W floats, preprocessed as in training. */
    public List<Prediction> classify(float[] chw) {
        return model.topK(chw, 5);
    }

    /** A batch: n images as n*C*H*W floats (NCHW) in, n*classes logits out. */
    public float[] logits(float[] nchw, int n) {
        return model.predict(nchw, n);
    }

    @Override
    public void close() {
        model.close(); // releases executors, worker threads and device memory
    }
}
// README-END
