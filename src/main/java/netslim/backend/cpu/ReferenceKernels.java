package netslim.backend.cpu;

import static netslim.backend.cpu.ShapeChecks.require;
import static netslim.backend.cpu.ShapeChecks.requireRank;
import static netslim.backend.cpu.ShapeChecks.requireSameSize;
import static netslim.backend.cpu.ShapeChecks.requireShape;
import static netslim.backend.cpu.ShapeChecks.spatialSize;

import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Scalar, single-threaded, readable implementation of every {@link Backend} op: the executable specification
 * that every other backend is tested against, matching PyTorch's semantics. Clarity before speed; sums of many
 * terms (GEMM, convolution, BatchNorm statistics, pools, losses) are accumulated in double and rounded once.
 * Convolutions live in {@link ReferenceConv}, pools in {@link ReferencePool}, BatchNorm in
 * {@link ReferenceBatchNorm}. Shape mismatches are caller bugs and throw {@link IllegalArgumentException}.
 */
public final class ReferenceKernels implements Backend {

    public ReferenceKernels() {
    }

    public static ReferenceKernels create() {
        return new ReferenceKernels();
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public boolean isHost() {
        return true;
    }

    /** t += acc, each sum rounded to float once after its double accumulation; a null t is skipped. */
    static void addRounded(Tensor t, double[] acc) {
        if (t == null) return;
        float[] d = t.data();
        for (int i = 0; i < acc.length; i++) d[t.offset() + i] += (float) acc[i];
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public void upload(Tensor host, Tensor dst) {
        copy(host, dst);
    }

    @Override
    public void download(Tensor src, Tensor host) {
        copy(src, host);
    }

    @Override
    public void fill(Tensor t, float value) {
        t.fill(value);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        requireSameSize(src, dst, "copy", "src", "dst");
        System.arraycopy(src.data(), src.offset(), dst.data(), dst.offset(), src.size());
    }

    // ---- linear algebra -----------------------------------------------------------------------------------

    /**
     * C = alpha·op(A)·op(B) + beta·C, row-major, each dot product in double. As in reference BLAS, beta = 0 means
     * C is written without being read (NaN or garbage in C is ignored), and alpha = 0 skips the product
     * (NaN in A or B is ignored).
     */
    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, int offA, int lda, Tensor b, int offB, int ldb, float beta, Tensor c, int offC, int ldc) {
        require(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=" + m + " n=" + n + " k=" + k);
        checkMatrix(a, offA, lda, transA ? k : m, transA ? m : k, "A");
        checkMatrix(b, offB, ldb, transB ? n : k, transB ? k : n, "B");
        checkMatrix(c, offC, ldc, m, n, "C");
        float[] ad = a.data(), bd = b.data(), cd = c.data();
        int a0 = a.offset() + offA, b0 = b.offset() + offB, c0 = c.offset() + offC;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                if (alpha != 0) {
                    for (int p = 0; p < k; p++) {
                        float aip = ad[a0 + (transA ? p * lda + i : i * lda + p)];
                        float bpj = bd[b0 + (transB ? j * ldb + p : p * ldb + j)];
                        dot += (double) aip * bpj;
                    }
                }
                int ci = c0 + i * ldc + j;
                double old = beta == 0 ? 0 : (double) beta * cd[ci];
                cd[ci] = (float) (alpha * dot + old);
            }
        }
    }

    /** A stored rows x cols matrix with row stride ld at element off of t must lie inside t. */
    private static void checkMatrix(Tensor t, int off, int ld, int rows, int cols, String name) {
        require(off >= 0 && ld >= Math.max(1, cols), "gemm", name + ": offset " + off + " / leading dimension " + ld
                + " invalid for a stored " + rows + "x" + cols + " matrix");
        long end = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        require(end <= t.size(), "gemm", name + ": stored " + rows + "x" + cols + " matrix at offset " + off
                + " with ld " + ld + " overruns tensor " + t.shape());
    }

    @Override
    public void im2col(Tensor x, int image, ConvSpec s, Tensor col) {
        ReferenceConv.im2col(x, image, s, col);
    }

    @Override
    public void col2im(Tensor col, ConvSpec s, Tensor dx, int image) {
        ReferenceConv.col2im(col, s, dx, image);
    }

    // ---- convolution and linear ---------------------------------------------------------------------------

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        ReferenceConv.conv2d(x, w, bias, y, s);
    }

    /** The reference's prepared form of any conv's weights is a copy of them (the snapshot contract). */
    @Override
    public Tensor prepareConvWeights(Tensor w, ConvSpec s, netslim.tensor.Shape x) {
        return w.copy();
    }

    @Override
    public void conv2dPrepared(Tensor x, Tensor prepared, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        ReferenceConv.conv2d(x, prepared, bias, y, s);
        if (relu) relu(y, y);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        ReferenceConv.conv2dBackward(x, w, dy, dx, dw, db, s);
    }

    /** Checks x (N, in...), w (out, in), y (N, out...) — x and y may carry trailing 1s; returns {N, in, out}. */
    private static int[] checkLinear(Tensor x, Tensor w, Tensor y, String op) {
        requireRank(w, 2, op, "w");
        int batch = x.shape().dim(0), in = w.shape().dim(1), out = w.shape().dim(0);
        require(x.size() == (long) batch * in, op, "x " + x.shape() + " does not match w " + w.shape());
        require(y.shape().dim(0) == batch && y.size() == (long) batch * out, op,
                "y/dy " + y.shape() + " must be " + batch + "x" + out);
        return new int[] {batch, in, out};
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor b, Tensor y) {
        int[] d = checkLinear(x, w, y, "linear");
        if (b != null) requireShape(b, "linear", "b", d[2]);
        // y (N, out) = x (N, in) · wᵀ
        gemm(false, true, d[0], d[2], d[1], 1f, x, 0, d[1], w, 0, d[1], 0f, y, 0, d[2]);
        if (b == null) return;
        for (int i = 0; i < d[0]; i++) {
            for (int o = 0; o < d[2]; o++) y.set(i * d[2] + o, y.get(i * d[2] + o) + b.get(o));
        }
    }

    /** dx += dy · w, dw += dyᵀ · x, db += Σ_n dy (each may be null). */
    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = checkLinear(x, w, dy, "linearBackward");
        int batch = d[0], in = d[1], out = d[2];
        if (dx != null) {
            requireSameSize(dx, x, "linearBackward", "dx", "x");
            gemm(false, false, batch, in, out, 1f, dy, 0, out, w, 0, in, 1f, dx, 0, in);
        }
        if (dw != null) {
            requireShape(dw, w.shape(), "linearBackward", "dw");
            gemm(true, false, out, in, batch, 1f, dy, 0, out, x, 0, in, 1f, dw, 0, in);
        }
        if (db != null) {
            requireShape(db, "linearBackward", "db", out);
            for (int o = 0; o < out; o++) {
                double sum = 0;
                for (int i = 0; i < batch; i++) sum += dy.get(i * out + o);
                db.set(o, db.get(o) + (float) sum);
            }
        }
    }

    // ---- normalisation ------------------------------------------------------------------------------------

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                               float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        ReferenceBatchNorm.train(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        ReferenceBatchNorm.eval(x, gamma, beta, mean, var, eps, y);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        ReferenceBatchNorm.backward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    // ---- activations --------------------------------------------------------------------------------------

    /** y = max(x, 0); NaN stays NaN, as in PyTorch. */
    @Override
    public void relu(Tensor x, Tensor y) {
        requireSameSize(x, y, "relu", "x", "y");
        for (int i = 0; i < x.size(); i++) y.set(i, Math.max(x.get(i), 0f));
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        requireSameSize(y, dy, "reluBackward", "y", "dy");
        requireSameSize(dy, dx, "reluBackward", "dy", "dx");
        for (int i = 0; i < y.size(); i++) {
            if (y.get(i) > 0) dx.set(i, dx.get(i) + dy.get(i));
        }
    }

    @Override
    public void clip(Tensor x, float lo, float hi, Tensor y) {
        requireSameSize(x, y, "clip", "x", "y");
        for (int i = 0; i < x.size(); i++) y.set(i, Math.min(Math.max(x.get(i), lo), hi));
    }

    @Override
    public void clipBackward(Tensor x, float lo, float hi, Tensor dy, Tensor dx) {
        requireSameSize(x, dy, "clipBackward", "x", "dy");
        requireSameSize(dy, dx, "clipBackward", "dy", "dx");
        for (int i = 0; i < x.size(); i++) {
            float v = x.get(i);
            if (v > lo && v < hi) dx.set(i, dx.get(i) + dy.get(i));
        }
    }

    // ---- pooling ------------------------------------------------------------------------------------------

    @Override
    public void maxPool(Tensor x, Tensor y, PoolSpec s) {
        ReferencePool.maxPool(x, y, s);
    }

    @Override
    public void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        ReferencePool.maxPoolBackward(x, dy, dx, s);
    }

    @Override
    public void avgPool(Tensor x, Tensor y, PoolSpec s) {
        ReferencePool.avgPool(x, y, s);
    }

    @Override
    public void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s) {
        ReferencePool.avgPoolBackward(dy, dx, s);
    }

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        ReferencePool.globalAvgPool(x, y);
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        ReferencePool.globalAvgPoolBackward(dy, dx);
    }

    // ---- elementwise, data movement -----------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        requireSameSize(a, b, "add", "a", "b");
        requireSameSize(a, y, "add", "a", "y");
        for (int i = 0; i < a.size(); i++) y.set(i, a.get(i) + b.get(i));
    }

    @Override
    public void axpy(float alpha, Tensor src, Tensor dst) {
        requireSameSize(src, dst, "axpy", "src", "dst");
        for (int i = 0; i < src.size(); i++) dst.set(i, dst.get(i) + alpha * src.get(i));
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int channels, boolean accumulate) {
        int hw = spatialSize(src, "copyChannels", "src");
        require(spatialSize(dst, "copyChannels", "dst") == hw && src.shape().n() == dst.shape().n(), "copyChannels",
                "src " + src.shape() + " and dst " + dst.shape() + " differ in N or spatial size");
        int srcC = src.shape().c(), dstC = dst.shape().c();
        require(channels >= 0 && srcC0 >= 0 && dstC0 >= 0 && srcC0 + channels <= srcC && dstC0 + channels <= dstC,
                "copyChannels", channels + " channels from " + srcC0 + " of " + src.shape() + " to " + dstC0 + " of "
                        + dst.shape() + " fall outside");
        for (int n = 0; n < src.shape().n(); n++) {
            for (int c = 0; c < channels; c++) {
                int from = ((n * srcC) + srcC0 + c) * hw, to = ((n * dstC) + dstC0 + c) * hw;
                for (int i = 0; i < hw; i++) {
                    float v = src.get(from + i);
                    dst.set(to + i, accumulate ? dst.get(to + i) + v : v);
                }
            }
        }
    }

    /**
     * The dropout draw every backend must reproduce bit for bit: element {@code index} (0-based, in the tensor's
     * C order) of a dropout call with {@code seed} is kept iff u ≥ p, where u ∈ [0, 1) is the top 24 bits of
     * {@code z = mix(seed + index·0x9E3779B97F4A7C15)} times 2⁻²⁴ and {@code mix} is the SplitMix64 finaliser
     * {@code z ^= z >>> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >>> 27; z *= 0x94D049BB133111EB; z ^= z >>> 31}
     * (64-bit wrapping arithmetic, logical shifts). Counter-based, so any thread or GPU lane can draw any element.
     */
    public static boolean dropoutKeep(long seed, long index, float p) {
        long z = seed + index * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        float u = (z >>> 40) * 0x1.0p-24f; // exact: a 24-bit integer times a power of two
        return u >= p;
    }

    /** mask[i] = dropoutKeep(seed, i, p) ? 1/(1-p) : 0 (computed in float); y = x·mask. p = 1 drops all. */
    @Override
    public void dropout(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        require(p >= 0 && p <= 1, "dropout", "probability " + p + " outside [0, 1]");
        requireSameSize(x, mask, "dropout", "x", "mask");
        requireSameSize(x, y, "dropout", "x", "y");
        float keepScale = p < 1 ? 1f / (1f - p) : 0f;
        for (int i = 0; i < x.size(); i++) {
            float m = dropoutKeep(seed, i, p) ? keepScale : 0f;
            mask.set(i, m);
            y.set(i, x.get(i) * m);
        }
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
        requireSameSize(dy, mask, "dropoutBackward", "dy", "mask");
        requireSameSize(dy, dx, "dropoutBackward", "dy", "dx");
        for (int i = 0; i < dy.size(); i++) dx.set(i, dx.get(i) + dy.get(i) * mask.get(i));
    }

    // ---- loss and optimiser -------------------------------------------------------------------------------

    /** Checks an (N, K) input against an output of the same size and the labels; returns {N, K}. */
    private static int[] checkLoss(Tensor in, int[] labels, float smoothing, Tensor out, String op, String inName,
                                   String outName) {
        require(in.shape().rank() >= 2, op, inName + " must be (N, K), got " + in.shape());
        int n = in.shape().dim(0), k = in.size() / Math.max(n, 1);
        requireSameSize(in, out, op, inName, outName);
        require(n > 0 && k > 0, op, "empty " + inName + " " + in.shape());
        require(labels.length == n, op, labels.length + " labels for a batch of " + n);
        require(smoothing >= 0 && smoothing <= 1, op, "label smoothing " + smoothing + " outside [0, 1]");
        for (int i = 0; i < n; i++) {
            require(labels[i] >= 0 && labels[i] < k, op, "label " + labels[i] + " at index " + i
                    + " is outside [0, " + k + ")");
        }
        return new int[] {n, k};
    }

    /**
     * Per row: logZ = max + log Σ exp(x − max) (stable); probs = exp(x − logZ);
     * loss = −Σ_k target_k·(x_k − logZ) = logZ − (1−ε)·x_label − (ε/K)·Σ_k x_k. Returns the mean over rows.
     */
    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float labelSmoothing, Tensor probs) {
        int[] d = checkLoss(logits, labels, labelSmoothing, probs, "softmaxCrossEntropy", "logits", "probs");
        int n = d[0], k = d[1];
        double total = 0;
        for (int i = 0; i < n; i++) {
            int row = i * k;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) max = Math.max(max, logits.get(row + j));
            double sumExp = 0, sumLogits = 0;
            for (int j = 0; j < k; j++) {
                sumExp += Math.exp((double) logits.get(row + j) - max);
                sumLogits += logits.get(row + j);
            }
            double logZ = max + Math.log(sumExp);
            for (int j = 0; j < k; j++) probs.set(row + j, (float) Math.exp(logits.get(row + j) - logZ));
            total += logZ - (1.0 - labelSmoothing) * logits.get(row + labels[i]) - labelSmoothing * sumLogits / k;
        }
        return (float) (total / n);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, int[] labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        int[] d = checkLoss(probs, labels, labelSmoothing, dlogits, "softmaxCrossEntropyBackward", "probs",
                "dlogits");
        int n = d[0], k = d[1];
        double off = labelSmoothing / (double) k;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                double target = (j == labels[i] ? 1.0 - labelSmoothing : 0.0) + off;
                int at = i * k + j;
                dlogits.set(at, dlogits.get(at) + (float) (scale * (probs.get(at) - target) / n));
            }
        }
    }

    /**
     * torch.optim.SGD (dampening 0), in float in PyTorch's order: g = grad + wd·p; v = momentum·v + g;
     * g = nesterov ? g + momentum·v : v; p −= lr·g. With a zero-initialised v the first step gives v = g, which
     * is PyTorch's first-step buffer. v is updated whenever it is given.
     */
    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        requireSameSize(param, grad, "sgdStep", "param", "grad");
        require(velocity != null || momentum == 0, "sgdStep", "momentum " + momentum + " needs a velocity tensor");
        if (velocity != null) requireSameSize(param, velocity, "sgdStep", "param", "velocity");
        for (int i = 0; i < param.size(); i++) {
            float p = param.get(i);
            float g = grad.get(i) + weightDecay * p;
            if (velocity != null) {
                float v = momentum * velocity.get(i) + g;
                velocity.set(i, v);
                g = nesterov ? g + momentum * v : v;
            }
            param.set(i, p - lr * g);
        }
    }
}
