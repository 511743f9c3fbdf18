package netslim.backend;

import static netslim.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.TestNpy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ReferenceKernels against PyTorch 1.13 ground truth (fixtures written by src/test/python/make_op_fixtures.py):
 * the semantics finite differences cannot prove — index conventions of grouped/dilated convolution, pool divisors
 * and ceil-mode shapes, max-pool tie-breaking, BatchNorm running statistics, label smoothing, the SGD update.
 */
class ReferenceVsTorchTest {
    // Both sides compute in float32 (the reference sums in double); values are O(1), sums have < 100 terms, so the
    // two differ by a few float ulps: 1e-5 absolute + 1e-5 relative leaves ample margin yet catches any
    // semantic difference (a wrong divisor or index is off by ≥ 1e-2).
    private static final double ATOL = 1e-5, RTOL = 1e-5;

    private final ReferenceKernels ref = new ReferenceKernels();

    private static Tensor load(String fixture, String name) {
        return TestNpy.resource("/ops/" + fixture + "/" + name + ".npy");
    }

    private static int[] spec(String fixture) {
        double[] d = TestNpy.doubles("/ops/" + fixture + "/spec.npy");
        int[] s = new int[d.length];
        for (int i = 0; i < d.length; i++) s[i] = (int) d[i];
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"conv_g2_dil2", "conv_depthwise_s2", "conv_rect"})
    void conv2dForwardAndBackward(String fixture) {
        int[] p = spec(fixture); // in, out, kh, kw, sh, sw, ph, pw, dh, dw, groups, has_bias
        ConvSpec s = new ConvSpec(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10]);
        Tensor x = load(fixture, "x"), w = load(fixture, "w"), yRef = load(fixture, "y"), dy = load(fixture, "dy");
        Tensor b = p[11] == 1 ? load(fixture, "b") : null;
        Tensor y = Tensor.zeros(yRef.shape());
        ref.conv2d(x, w, b, y, s);
        assertClose(y, yRef, ATOL, RTOL, fixture + " y");
        Tensor dx = Tensor.zeros(x.shape()), dw = Tensor.zeros(w.shape());
        Tensor db = b == null ? null : Tensor.zeros(b.shape());
        ref.conv2dBackward(x, w, dy, dx, dw, db, s);
        assertClose(dx, load(fixture, "dx"), ATOL, RTOL, fixture + " dx");
        assertClose(dw, load(fixture, "dw"), ATOL, RTOL, fixture + " dw");
        if (db != null) assertClose(db, load(fixture, "db"), ATOL, RTOL, fixture + " db");
    }

    @Test
    void linearForwardAndBackward() {
        String f = "linear";
        Tensor x = load(f, "x"), w = load(f, "w"), b = load(f, "b"), dy = load(f, "dy");
        Tensor y = Tensor.zeros(dy.shape());
        ref.linear(x, w, b, y);
        assertClose(y, load(f, "y"), ATOL, RTOL, "linear y");
        Tensor dx = Tensor.zeros(x.shape()), dw = Tensor.zeros(w.shape()), db = Tensor.zeros(b.shape());
        ref.linearBackward(x, w, dy, dx, dw, db);
        assertClose(dx, load(f, "dx"), ATOL, RTOL, "linear dx");
        assertClose(dw, load(f, "dw"), ATOL, RTOL, "linear dw");
        assertClose(db, load(f, "db"), ATOL, RTOL, "linear db");
    }

    /** Output shape of a pool from PoolSpec (this is where ceil_mode shows), allocated before running. */
    private static Tensor poolOutput(Tensor x, PoolSpec s) {
        Shape xs = x.shape();
        return Tensor.zeros(xs.n(), xs.c(), s.outH(xs.h()), s.outW(xs.w()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"maxpool_k3s2_ceil_7", "maxpool_k3s2p1_ceil_7", "maxpool_k3s2_ceil_13",
        "maxpool_k2s2_ceil_5", "maxpool_k3s1p1", "maxpool_rect"})
    void maxPoolShapesValuesAndTieBreaking(String fixture) {
        int[] p = spec(fixture); // kh, kw, sh, sw, ph, pw, ceil ; inputs are small integers, so windows tie
        PoolSpec s = new PoolSpec(p[0], p[1], p[2], p[3], p[4], p[5], p[6] == 1, true);
        Tensor x = load(fixture, "x"), dy = load(fixture, "dy");
        Tensor y = poolOutput(x, s);
        ref.maxPool(x, y, s);
        assertClose(y, load(fixture, "y"), 0, 0, fixture + " y");
        Tensor dx = Tensor.zeros(x.shape());
        ref.maxPoolBackward(x, dy, dx, s);
        assertClose(dx, load(fixture, "dx"), ATOL, RTOL, fixture + " dx (first max of each window)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"avgpool_k3s2p1_ceil_cip_7", "avgpool_k3s2p1_ceil_nopad_7", "avgpool_k3s2p1_nopad_6",
        "avgpool_k2s2_ceil_cip_5", "avgpool_k3s1p1_nopad_5", "avgpool_k5s3_8", "avgpool_rect_ceil_cip"})
    void avgPoolDivisors(String fixture) {
        int[] p = spec(fixture); // kh, kw, sh, sw, ph, pw, ceil, count_include_pad
        PoolSpec s = new PoolSpec(p[0], p[1], p[2], p[3], p[4], p[5], p[6] == 1, p[7] == 1);
        Tensor x = load(fixture, "x"), dy = load(fixture, "dy");
        Tensor y = poolOutput(x, s);
        ref.avgPool(x, y, s);
        assertClose(y, load(fixture, "y"), ATOL, RTOL, fixture + " y");
        Tensor dx = Tensor.zeros(x.shape());
        ref.avgPoolBackward(dy, dx, s);
        assertClose(dx, load(fixture, "dx"), ATOL, RTOL, fixture + " dx");
    }

    @Test
    void globalAvgPool() {
        String f = "global_avgpool";
        Tensor x = load(f, "x"), dy = load(f, "dy");
        Tensor y = Tensor.zeros(dy.shape());
        ref.globalAvgPool(x, y);
        assertClose(y, load(f, "y"), ATOL, RTOL, "global avg pool y");
        Tensor dx = Tensor.zeros(x.shape());
        ref.globalAvgPoolBackward(dy, dx);
        assertClose(dx, load(f, "dx"), ATOL, RTOL, "global avg pool dx");
    }

    @ParameterizedTest
    @ValueSource(strings = {"bn_train", "bn_two_per_channel"})
    void batchNormTrainRunningStatsEvalAndBackward(String fixture) {
        double[] p = TestNpy.doubles("/ops/" + fixture + "/spec.npy"); // momentum, eps
        float momentum = (float) p[0], eps = (float) p[1];
        Tensor x = load(fixture, "x"), gamma = load(fixture, "gamma"), beta = load(fixture, "beta");
        Tensor runMean = load(fixture, "run_mean0"), runVar = load(fixture, "run_var0"), dy = load(fixture, "dy");
        int c = x.shape().c();
        Tensor y = Tensor.zeros(x.shape()), saveMean = Tensor.zeros(c), saveInvStd = Tensor.zeros(c);
        ref.batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
        assertClose(y, load(fixture, "y"), ATOL, RTOL, fixture + " y");
        assertClose(runMean, load(fixture, "run_mean1"), ATOL, RTOL, fixture + " running mean");
        assertClose(runVar, load(fixture, "run_var1"), ATOL, RTOL, fixture + " running var (unbiased)");

        Tensor dx = Tensor.zeros(x.shape()), dgamma = Tensor.zeros(c), dbeta = Tensor.zeros(c);
        ref.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
        // dx subtracts two channel sums from n·dy; with n = 2 per channel the cancellation costs a few ulps more.
        assertClose(dx, load(fixture, "dx"), 1e-5, 1e-4, fixture + " dx");
        assertClose(dgamma, load(fixture, "dgamma"), ATOL, RTOL, fixture + " dgamma");
        assertClose(dbeta, load(fixture, "dbeta"), ATOL, RTOL, fixture + " dbeta");

        Tensor yEval = Tensor.zeros(x.shape());
        ref.batchNormEval(x, gamma, beta, runMean, runVar, eps, yEval);
        assertClose(yEval, load(fixture, "y_eval"), ATOL, RTOL, fixture + " eval y");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ce_plain", "ce_smooth", "ce_large_logits"})
    void softmaxCrossEntropyWithLabelSmoothing(String fixture) {
        double[] p = TestNpy.doubles("/ops/" + fixture + "/spec.npy"); // label_smoothing, scale
        float smoothing = (float) p[0], scale = (float) p[1];
        Tensor logits = load(fixture, "logits"), labelTensor = load(fixture, "labels");
        int[] labels = new int[labelTensor.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = (int) labelTensor.get(i);
        Tensor probs = Tensor.zeros(logits.shape());
        float loss = ref.softmaxCrossEntropy(logits, labels, smoothing, probs);
        assertClose(new float[] {loss}, load(fixture, "loss").toArray(), ATOL, RTOL, fixture + " loss");
        assertClose(probs, load(fixture, "probs"), ATOL, RTOL, fixture + " probs");
        Tensor dlogits = Tensor.zeros(logits.shape());
        ref.softmaxCrossEntropyBackward(probs, labels, smoothing, scale, dlogits);
        assertClose(dlogits, load(fixture, "dlogits"), ATOL, RTOL, fixture + " dlogits");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd_plain", "sgd_momentum_wd", "sgd_nesterov_wd"})
    void sgdStepsMatchTorchOptimSgd(String fixture) {
        double[] p = TestNpy.doubles("/ops/" + fixture + "/spec.npy"); // lr, momentum, weight_decay, nesterov, steps
        float lr = (float) p[0], momentum = (float) p[1], wd = (float) p[2];
        boolean nesterov = p[3] == 1;
        int steps = (int) p[4];
        Tensor param = load(fixture, "p0"), grads = load(fixture, "grads");
        Tensor velocity = momentum == 0 ? null : Tensor.zeros(param.shape());
        int size = param.size();
        for (int s = 0; s < steps; s++) {
            Tensor g = Tensor.of(param.shape(), java.util.Arrays.copyOfRange(grads.toArray(), s * size, (s + 1) * size));
            ref.sgdStep(param, g, velocity, lr, momentum, wd, nesterov);
        }
        // PyTorch may fuse a·x + y into one FMA; over three steps that is a few ulps of O(1) values.
        assertClose(param, load(fixture, "p1"), ATOL, RTOL, fixture + " parameter");
        if (velocity != null) assertClose(velocity, load(fixture, "v1"), ATOL, RTOL, fixture + " momentum buffer");
    }

    @Test
    void reluAndRelu6AtTheirKinks() {
        Tensor x = load("relu", "x"), dy = load("relu", "dy");
        Tensor y = Tensor.zeros(x.shape()), dx = Tensor.zeros(x.shape());
        ref.relu(x, y);
        assertClose(y, load("relu", "y"), 0, 0, "relu y");
        ref.reluBackward(y, dy, dx);
        assertClose(dx, load("relu", "dx"), 0, 0, "relu dx (zero gradient at x = 0)");

        double[] bounds = TestNpy.doubles("/ops/relu6/spec.npy");
        float lo = (float) bounds[0], hi = (float) bounds[1];
        Tensor y6 = Tensor.zeros(x.shape()), dx6 = Tensor.zeros(x.shape());
        ref.clip(x, lo, hi, y6);
        assertClose(y6, load("relu6", "y"), 0, 0, "relu6 y");
        ref.clipBackward(x, lo, hi, dy, dx6);
        assertClose(dx6, load("relu6", "dx"), 0, 0, "relu6 dx (zero gradient at the bounds)");
        assertEquals(0f, dx6.get(5), "x = 6 exactly gets no gradient");
    }
}
