package netslim.backend;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * A test decorator: before every forward op it fills the op's outputs with NaN (through the wrapped backend's own
 * {@link Backend#fill}), then delegates. Parity inputs are never NaN, so an output element the op fails to write
 * stays NaN and fails the comparison with the reference. Backward ops add into their gradients and are passed
 * through untouched; gemm is passed through too (its C may carry padding columns that must keep their values).
 */
public final class PoisoningBackend implements Backend {
    private final Backend b;

    public PoisoningBackend(Backend delegate) {
        this.b = delegate;
    }

    /** Whether a and b are the same elements (an op running in place). */
    private static boolean same(Tensor a, Tensor b) {
        return a.storage() == b.storage() && a.offset() == b.offset();
    }

    private void poison(Tensor... outputs) {
        for (Tensor t : outputs) if (t != null) b.fill(t, Float.NaN);
    }

    @Override public String name() { return b.name(); }
    @Override public boolean isHost() { return b.isHost(); }
    @Override public Tensor allocate(Shape shape) { return b.allocate(shape); }
    @Override public void close() { b.close(); }

    @Override
    public void upload(Tensor host, Tensor dst) {
        poison(dst);
        b.upload(host, dst);
    }

    @Override
    public void download(Tensor src, Tensor host) {
        b.download(src, host);
    }

    @Override
    public void fill(Tensor t, float value) {
        b.fill(t, value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        poison(dst);
        b.copy(src, dst);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int offA, int lda,
                     Tensor bm, int offB, int ldb, float beta, Tensor c, int offC, int ldc) {
        b.gemm(transA, transB, m, n, k, alpha, a, offA, lda, bm, offB, ldb, beta, c, offC, ldc);
    }

    @Override
    public void im2col(Tensor x, int image, ConvSpec s, Tensor col) {
        poison(col);
        b.im2col(x, image, s, col);
    }

    @Override
    public void col2im(Tensor col, ConvSpec s, Tensor dx, int image) {
        b.col2im(col, s, dx, image);
    }

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        poison(y);
        b.conv2d(x, w, bias, y, s);
    }

    @Override
    public void conv2dRelu(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        poison(y);
        b.conv2dRelu(x, w, bias, y, s);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        b.conv2dBackward(x, w, dy, dx, dw, db, s);
    }

    @Override
    public void conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        poison(dx);
        b.conv2dBackwardInto(x, w, dy, dx, dw, db, s);
    }

    @Override
    public void conv2dSiblings(Tensor x, Tensor[] ws, Tensor[] bs, Tensor[] ys, ConvSpec[] specs) {
        for (Tensor y : ys) poison(y);
        b.conv2dSiblings(x, ws, bs, ys, specs);
    }

    @Override
    public void conv2dSiblingsBackward(Tensor x, Tensor[] ws, Tensor[] dys, Tensor dx, Tensor[] dws, Tensor[] dbs,
                                       ConvSpec[] specs) {
        b.conv2dSiblingsBackward(x, ws, dys, dx, dws, dbs, specs);
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        poison(y);
        b.linear(x, w, bias, y);
    }

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        b.linearBackward(x, w, dy, dx, dw, db);
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                               float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        poison(y, saveMean, saveInvStd);
        b.batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        poison(y, saveMean, saveInvStd);
        b.batchNormTrainRelu(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        poison(y);
        b.batchNormEval(x, gamma, beta, mean, var, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        b.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                      Tensor dx, Tensor dgamma, Tensor dbeta) {
        poison(dx);
        b.batchNormBackwardInto(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public void batchNormReluBackwardInto(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor beta,
                                          Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                          Tensor dbeta) {
        poison(dx);
        b.batchNormReluBackwardInto(x, y, dy, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public boolean batchNormReluSlices() {
        return b.batchNormReluSlices();
    }

    @Override
    public void batchNormTrainReluSlice(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                        float momentum, float eps, Tensor yBuffer, int c0, Tensor saveMean,
                                        Tensor saveInvStd) {
        Tensor nan = b.allocate(x.shape()); // the op's channels of the buffer, poisoned
        b.fill(nan, Float.NaN);
        b.copyChannels(nan, 0, yBuffer, c0, x.shape().dim(1), false);
        b.batchNormTrainReluSlice(x, gamma, beta, runMean, runVar, momentum, eps, yBuffer, c0, saveMean, saveInvStd);
    }

    @Override
    public void batchNormReluBackwardIntoSlice(Tensor x, Tensor dyBuffer, int c0, Tensor gamma, Tensor beta,
                                               Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                               Tensor dbeta) {
        poison(dx);
        b.batchNormReluBackwardIntoSlice(x, dyBuffer, c0, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    @Override
    public boolean reluInPlace() {
        return b.reluInPlace();
    }

    @Override
    public void relu(Tensor x, Tensor y) {
        if (!same(x, y)) poison(y); // in place, y holds the input
        b.relu(x, y);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        b.reluBackward(y, dy, dx);
    }

    @Override
    public void reluBackwardInto(Tensor y, Tensor dy, Tensor dx) {
        if (!same(dy, dx)) poison(dx);
        b.reluBackwardInto(y, dy, dx);
    }

    @Override
    public void clip(Tensor x, float lo, float hi, Tensor y) {
        poison(y);
        b.clip(x, lo, hi, y);
    }

    @Override
    public void clipBackward(Tensor x, float lo, float hi, Tensor dy, Tensor dx) {
        b.clipBackward(x, lo, hi, dy, dx);
    }

    @Override
    public void maxPool(Tensor x, Tensor y, PoolSpec s) {
        poison(y);
        b.maxPool(x, y, s);
    }

    @Override
    public void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        b.maxPoolBackward(x, dy, dx, s);
    }

    @Override
    public void maxPoolBackwardInto(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        poison(dx);
        b.maxPoolBackwardInto(x, dy, dx, s);
    }

    @Override
    public void avgPool(Tensor x, Tensor y, PoolSpec s) {
        poison(y);
        b.avgPool(x, y, s);
    }

    @Override
    public void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s) {
        b.avgPoolBackward(dy, dx, s);
    }

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        poison(y);
        b.globalAvgPool(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        b.globalAvgPoolBackward(dy, dx);
    }

    @Override
    public void add(Tensor a, Tensor bt, Tensor y) {
        poison(y);
        b.add(a, bt, y);
    }

    @Override
    public void axpy(float alpha, Tensor src, Tensor dst) {
        b.axpy(alpha, src, dst);
    }

    /** Passed through: dst outside the copied channel slice must keep its values, and fill cannot target a slice. */
    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int channels, boolean accumulate) {
        b.copyChannels(src, srcC0, dst, dstC0, channels, accumulate);
    }

    @Override
    public void dropout(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        poison(mask, y);
        b.dropout(x, p, seed, mask, y);
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
        b.dropoutBackward(dy, mask, dx);
    }

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float labelSmoothing, Tensor probs) {
        poison(probs);
        return b.softmaxCrossEntropy(logits, labels, labelSmoothing, probs);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, int[] labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        b.softmaxCrossEntropyBackward(probs, labels, labelSmoothing, scale, dlogits);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        b.sgdStep(param, grad, velocity, lr, momentum, weightDecay, nesterov);
    }

    @Override
    public String toString() {
        return b + " (outputs poisoned with NaN)";
    }
}
