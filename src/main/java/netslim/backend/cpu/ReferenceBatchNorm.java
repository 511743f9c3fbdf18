package netslim.backend.cpu;

import static netslim.backend.cpu.ShapeChecks.require;
import static netslim.backend.cpu.ShapeChecks.requireShape;
import static netslim.backend.cpu.ShapeChecks.spatialSize;

import netslim.tensor.Tensor;

/**
 * BatchNorm2d (training forward, eval forward, training backward) for {@link ReferenceKernels}. x is (N, C, ...)
 * and the statistics of channel c run over the n = N·H·W elements of that channel. Sums are taken in double,
 * variance by the two-pass formula.
 */
final class ReferenceBatchNorm {
    private ReferenceBatchNorm() {
    }

    /** Index of element (image, c, i) in the flat (N, C, HW) layout, without the tensor offset. */
    private static int at(int image, int c, int i, int channels, int hw) {
        return (image * channels + c) * hw + i;
    }

    /** Checks x against y (same shape) and every per-channel vector (all required); returns H·W. */
    private static int check(Tensor x, Tensor y, String op, Tensor... perChannel) {
        int hw = spatialSize(x, op, "x");
        requireShape(y, x.shape(), op, "y/dy");
        for (Tensor t : perChannel) {
            require(t != null, op, "per-channel tensors (gamma, beta, statistics) must not be null");
            requireShape(t, op, "per-channel tensor", x.shape().c());
        }
        return hw;
    }

    static void train(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                      float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        int hw = check(x, y, "batchNormTrain", gamma, beta, runMean, runVar, saveMean, saveInvStd);
        int batch = x.shape().n(), channels = x.shape().c();
        long n = (long) batch * hw;
        // PyTorch refuses training-mode BN on one value per channel (the unbiased variance would divide by 0).
        require(n > 1, "batchNormTrain", "expected more than 1 value per channel when training, got " + x.shape());
        float[] xd = x.data(), yd = y.data();
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) sum += xd[x.offset() + at(b, c, i, channels, hw)];
            }
            double mean = sum / n;
            double sq = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) {
                    double dev = xd[x.offset() + at(b, c, i, channels, hw)] - mean;
                    sq += dev * dev;
                }
            }
            double var = sq / n; // biased: used to normalise
            double invStd = 1.0 / Math.sqrt(var + eps);
            double scale = gamma.get(c) * invStd, shift = beta.get(c) - mean * scale;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) {
                    int k = at(b, c, i, channels, hw);
                    yd[y.offset() + k] = (float) (xd[x.offset() + k] * scale + shift);
                }
            }
            saveMean.set(c, (float) mean);
            saveInvStd.set(c, (float) invStd);
            // Running statistics as torch.nn.BatchNorm2d: the unbiased variance n/(n-1)·var feeds runVar.
            runMean.set(c, (float) ((1.0 - momentum) * runMean.get(c) + momentum * mean));
            runVar.set(c, (float) ((1.0 - momentum) * runVar.get(c) + momentum * var * n / (n - 1)));
        }
    }

    static void eval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        int hw = check(x, y, "batchNormEval", gamma, beta, mean, var);
        int batch = x.shape().n(), channels = x.shape().c();
        float[] xd = x.data(), yd = y.data();
        for (int c = 0; c < channels; c++) {
            double scale = gamma.get(c) / Math.sqrt((double) var.get(c) + eps);
            double m = mean.get(c), shift = beta.get(c);
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) {
                    int k = at(b, c, i, channels, hw);
                    yd[y.offset() + k] = (float) ((xd[x.offset() + k] - m) * scale + shift);
                }
            }
        }
    }

    /**
     * Gradient of the training-mode formula y = γ·x̂ + β, x̂ = (x − μ)·invStd with μ, invStd functions of the batch:
     * dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd/n · (n·dy − Σ dy − x̂·Σ dy·x̂), sums over the channel's n elements.
     */
    static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx,
                         Tensor dgamma, Tensor dbeta) {
        int hw = check(x, dy, "batchNormBackward", gamma, saveMean, saveInvStd);
        if (dx != null) requireShape(dx, x.shape(), "batchNormBackward", "dx");
        if (dgamma != null) requireShape(dgamma, gamma.shape(), "batchNormBackward", "dgamma");
        if (dbeta != null) requireShape(dbeta, gamma.shape(), "batchNormBackward", "dbeta");
        int batch = x.shape().n(), channels = x.shape().c();
        long n = (long) batch * hw;
        float[] xd = x.data(), dyd = dy.data();
        for (int c = 0; c < channels; c++) {
            double mean = saveMean.get(c), invStd = saveInvStd.get(c);
            double sumDy = 0, sumDyXhat = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) {
                    int k = at(b, c, i, channels, hw);
                    double g = dyd[dy.offset() + k];
                    sumDy += g;
                    sumDyXhat += g * (xd[x.offset() + k] - mean) * invStd;
                }
            }
            if (dbeta != null) dbeta.set(c, dbeta.get(c) + (float) sumDy);
            if (dgamma != null) dgamma.set(c, dgamma.get(c) + (float) sumDyXhat);
            if (dx == null) continue;
            float[] dxd = dx.data();
            double k0 = gamma.get(c) * invStd / n;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < hw; i++) {
                    int k = at(b, c, i, channels, hw);
                    double xhat = (xd[x.offset() + k] - mean) * invStd;
                    dxd[dx.offset() + k] += (float) (k0 * (n * (double) dyd[dy.offset() + k] - sumDy - xhat * sumDyXhat));
                }
            }
        }
    }
}
