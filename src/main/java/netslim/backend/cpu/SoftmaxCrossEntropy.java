package netslim.backend.cpu;

import netslim.tensor.Tensor;

/**
 * Softmax cross-entropy with label smoothing on (N, K) logits, row by row (rows are short; no threads). With
 * target t = (1−ε)·onehot + ε/K and log p_k = (z_k − max) − log Σ exp(z − max): loss_row = −Σ_k t_k · log p_k.
 */
final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {
    }

    static float forward(Tensor logits, int[] labels, float eps, Tensor probs) {
        int n = rows(logits, labels), k = logits.size() / n;
        ShapeChecks.requireSameSize(logits, probs, "softmaxCrossEntropy", "logits", "probs");
        float[] z = logits.data(), p = probs.data();
        double total = 0;
        for (int r = 0; r < n; r++) {
            int zo = logits.offset() + r * k, po = probs.offset() + r * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, z[zo + j]);
            double sum = 0;
            for (int j = 0; j < k; j++) sum += Math.exp(z[zo + j] - max);
            double logSum = Math.log(sum);
            double loss = 0;
            for (int j = 0; j < k; j++) {
                double logP = z[zo + j] - max - logSum;
                p[po + j] = (float) Math.exp(logP);
                loss -= target(labels[r], j, eps, k) * logP;
            }
            total += loss;
        }
        return (float) (total / n);
    }

    /** dlogits += scale · (probs − target) / N. */
    static void backward(Tensor probs, int[] labels, float eps, float scale, Tensor dlogits) {
        int n = rows(probs, labels), k = probs.size() / n;
        ShapeChecks.requireSameSize(probs, dlogits, "softmaxCrossEntropyBackward", "probs", "dlogits");
        float[] p = probs.data(), d = dlogits.data();
        float factor = scale / n;
        for (int r = 0; r < n; r++) {
            int po = probs.offset() + r * k, dO = dlogits.offset() + r * k;
            for (int j = 0; j < k; j++) {
                d[dO + j] += factor * (float) (p[po + j] - target(labels[r], j, eps, k));
            }
        }
    }

    private static double target(int label, int j, float eps, int k) {
        return (j == label ? 1.0 - eps : 0.0) + (double) eps / k;
    }

    private static int rows(Tensor t, int[] labels) {
        int n = t.shape().dim(0);
        if (labels.length != n) {
            ShapeChecks.fail("softmaxCrossEntropy", labels.length + " labels for " + n + " rows");
        }
        int k = t.size() / Math.max(1, n);
        for (int r = 0; r < n; r++) {
            if (labels[r] < 0 || labels[r] >= k) {
                throw new IllegalArgumentException("label " + labels[r] + " of sample " + r + " is outside [0, " + k + ")");
            }
        }
        return n;
    }
}
