package netslim.testing;

import java.nio.FloatBuffer;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** Runs an ONNX model in ONNX Runtime (CPU, one thread, all graph optimisations): the oracle of the export tests. */
public final class OrtRunner {
    private OrtRunner() {
    }

    /** The model's single output for a host NCHW input, as a host tensor of ORT's output shape. */
    public static Tensor run(byte[] model, Tensor input) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(model, opts);
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.toArray()), longs(input.shape()));
                 OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), x))) {
                OnnxTensor y = (OnnxTensor) r.get(0);
                long[] dims = y.getInfo().getShape();
                int[] d = new int[dims.length];
                for (int i = 0; i < d.length; i++) d[i] = Math.toIntExact(dims[i]);
                FloatBuffer fb = y.getFloatBuffer();
                float[] out = new float[fb.remaining()];
                fb.get(out);
                return Tensor.of(Shape.of(d), out);
            }
        } catch (OrtException e) {
            throw new AssertionError("ONNX Runtime failed: " + e.getMessage(), e);
        }
    }

    private static long[] longs(Shape s) {
        long[] d = new long[s.rank()];
        for (int i = 0; i < d.length; i++) d[i] = s.dim(i);
        return d;
    }
}
