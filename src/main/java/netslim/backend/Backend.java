package netslim.backend;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The op set every device implements: everything the model zoo needs for inference and training. Tensors are
 * NCHW float32, preallocated by the caller. Conventions shared by all ops:
 * <ul>
 *   <li>Forward ops overwrite their outputs.</li>
 *   <li><b>Backward ops add into their gradient outputs</b> ({@code dx += ...}, {@code dw += ...}); the caller
 *       zeroes gradient buffers before a backward pass. This makes fan-out (an Inception input feeding four
 *       branches, a residual skip) a plain sum. A {@code null} gradient output is skipped.</li>
 *   <li>{@link netslim.backend.cpu.ReferenceKernels} is the executable specification; every backend is tested
 *       against it op by op.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. "cpu", "reference", "cuda". */
    String name();

    /** True when tensors of this backend are host tensors ({@link Tensor#data()} works). */
    boolean isHost();

    // ---- memory -------------------------------------------------------------------------------------------

    /** A zero-filled tensor in this backend's memory. */
    Tensor allocate(Shape shape);

    /** Copies a host tensor into a tensor of this backend (same element count). */
    void upload(Tensor host, Tensor dst);

    /** Copies a tensor of this backend into a host tensor (same element count). */
    void download(Tensor src, Tensor host);

    void fill(Tensor t, float value);

    /** dst = src (same element count). */
    void copy(Tensor src, Tensor dst);

    // ---- linear algebra -----------------------------------------------------------------------------------

    /**
     * Row-major GEMM on flat storage: {@code C = alpha * op(A) * op(B) + beta * C} where op(A) is m x k, op(B) is
     * k x n, C is m x n; {@code lda/ldb/ldc} are row strides of the stored (untransposed) matrices and
     * {@code off*} element offsets into each tensor.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              Tensor a, int offA, int lda, Tensor b, int offB, int ldb, float beta, Tensor c, int offC, int ldc);

    /**
     * Unfolds image {@code image} of x (N, C, H, W) into col of shape (C * kh * kw, outH * outW): row
     * {@code (c * kh + i) * kw + j}, column {@code oy * outW + ox}; zero where the window reads padding.
     */
    void im2col(Tensor x, int image, ConvSpec s, Tensor col);

    /** The adjoint of {@link #im2col}: adds the columns back into image {@code image} of dx. */
    void col2im(Tensor col, ConvSpec s, Tensor dx, int image);

    // ---- convolution and linear ---------------------------------------------------------------------------

    /** y (N, out, oh, ow) = conv(x (N, in, H, W), w (out, in/groups, kh, kw)) + bias (out) if bias != null. */
    void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s);

    /**
     * conv2d followed by ReLU: {@code y = max(0, conv(x, w) + bias)}, for inference plans that fuse a conv with the
     * ReLU that alone reads it. The default runs the two ops; backends may apply the ReLU in the conv's own output
     * pass. Same results as the two ops.
     */
    default void conv2dRelu(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        conv2d(x, w, bias, y, s);
        relu(y, y);
    }

    /**
     * A conv's weights prepared for a serving plan's repeated inference with this backend's best path for input
     * shape {@code x} (on the CPU: the Winograd F(2x2, 3x3) or F(4x4, 3x3) transform of a 3x3 stride-1 conv where
     * that pays), or null when the backend has nothing better than {@link #conv2d} for it. The result is a snapshot:
     * later changes to {@code w} are not seen (plans that prepare weights are rebuilt after training).
     */
    default Tensor prepareConvWeights(Tensor w, ConvSpec s, Shape x) {
        return null;
    }

    /**
     * {@link #conv2d} (relu false) or {@link #conv2dRelu} (relu true) with weights from this backend's
     * {@link #prepareConvWeights}; same results up to float rounding.
     */
    default void conv2dPrepared(Tensor x, Tensor prepared, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        throw new UnsupportedOperationException(name() + " prepares no conv weights");
    }

    /**
     * Weights for {@link #conv2dPreparedSplit}: sibling pointwise convs over one input (shape {@code x}), their
     * weights stacked along the output channels in {@code w} ({@code couts[i]} rows for member i, in order, as
     * {@code stacked} describes), prepared so that one product writes every member's own output tensor; null when
     * the backend has no such path for them (a serving plan then runs the members one by one). A snapshot, as
     * {@link #prepareConvWeights}'s.
     */
    default Tensor prepareSplitPointwise(Tensor w, ConvSpec stacked, int[] couts, Shape x) {
        return null;
    }

    /**
     * ys[i] (N, couts[i], H, W) = member i's rows of the stacked pointwise conv of x, + its rows of bias (may be
     * null), then ReLU when asked; {@code prepared} from {@link #prepareSplitPointwise}. Same results up to float
     * rounding as the members' {@link #conv2d} / {@link #conv2dRelu}.
     */
    default void conv2dPreparedSplit(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, ConvSpec stacked,
                                     boolean relu) {
        throw new UnsupportedOperationException(name() + " prepares no split pointwise weights");
    }

    /**
     * Whether {@link #conv2dPreparedSlice} (and, for split pointwise weights, {@link #conv2dPreparedSplitSlices})
     * takes these prepared weights: the conv can write its outputs into a channel slice of a bigger tensor at any
     * batch size (a concat's buffer, whose channel ranges are not contiguous at batch > 1). False by default.
     */
    default boolean writesChannelSlices(Tensor prepared, ConvSpec s) {
        return false;
    }

    /**
     * {@link #conv2dPrepared} into channels [c0, c0 + outChannels) of y (N, C, H, W), C ≥ c0 + outChannels; only
     * where {@link #writesChannelSlices} said so.
     */
    default void conv2dPreparedSlice(Tensor x, Tensor prepared, Tensor bias, Tensor y, int c0, ConvSpec s,
                                     boolean relu) {
        throw new UnsupportedOperationException(name() + " writes no channel slices");
    }

    /**
     * {@link #conv2dPreparedSplit} with member i's couts[i] outputs written into channels [c0s[i], c0s[i] + couts[i])
     * of ys[i] (its own tensor with c0s[i] = 0, or a concat's buffer); only where {@link #writesChannelSlices} said
     * so for the split weights.
     */
    default void conv2dPreparedSplitSlices(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, int[] c0s,
                                           int[] couts, ConvSpec stacked, boolean relu) {
        throw new UnsupportedOperationException(name() + " writes no channel slices");
    }

    /** Adds into dx, dw, db (each may be null) the gradients of conv2d given dy. */
    void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s);

    /**
     * {@link #conv2dBackward} with dx overwritten rather than added into (a plan calls it where the conv is the only
     * reader of its input, so no zeroing of dx is needed first); dw and db are still added into. The default zeroes dx,
     * then adds into it.
     */
    default void conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        if (dx != null) fill(dx, 0f);
        conv2dBackward(x, w, dy, dx, dw, db, s);
    }

    /**
     * Sibling convs of one input, forward: {@code conv2d(x, ws[i], bs[i], ys[i], specs[i])} for every i (bs[i] may be
     * null) — a training plan's pointwise convs that read the same tensor (an inception block's branch heads). A
     * backend may run them as one product over the stacked weights. The default runs them one by one.
     */
    default void conv2dSiblings(Tensor x, Tensor[] ws, Tensor[] bs, Tensor[] ys, ConvSpec[] specs) {
        for (int i = 0; i < ws.length; i++) conv2d(x, ws[i], bs[i], ys[i], specs[i]);
    }

    /**
     * Their backward: {@code conv2dBackward(x, ws[i], dys[i], dx, dws[i], dbs[i], specs[i])} for every i (dx and
     * each dbs[i] may be null), so dx gets the sum of the members' input gradients added in, in an order the backend
     * chooses. The default runs them one by one, the last member first (the order a plan without the merge has).
     */
    default void conv2dSiblingsBackward(Tensor x, Tensor[] ws, Tensor[] dys, Tensor dx, Tensor[] dws, Tensor[] dbs,
                                        ConvSpec[] specs) {
        for (int i = ws.length - 1; i >= 0; i--) conv2dBackward(x, ws[i], dys[i], dx, dws[i], dbs[i], specs[i]);
    }

    /** y (N, out) = x (N, in) · wᵀ (w: out x in) + b (out) if b != null. */
    void linear(Tensor x, Tensor w, Tensor b, Tensor y);

    void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db);

    // ---- normalisation ------------------------------------------------------------------------------------

    /**
     * Training-mode BatchNorm2d: normalises with batch statistics (biased variance), writes y, saves the batch
     * mean and 1/sqrt(var + eps) per channel, and updates the running statistics as PyTorch does:
     * {@code run = (1 - momentum) * run + momentum * batch}, with the unbiased variance for runVar.
     */
    void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum, float eps,
                        Tensor y, Tensor saveMean, Tensor saveInvStd);

    /**
     * {@link #batchNormTrain} followed by a ReLU on its output, y = max(BN(x), 0), in one op: the training plan calls
     * it for a BatchNorm whose ReLU runs in place on its output ({@code Executor.forTraining}, on backends where
     * {@link #reluInPlace}). The default runs the two ops, the ReLU in place (so, correct where reluInPlace is).
     */
    default void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                    float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        batchNormTrain(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
        relu(y, y);
    }

    /**
     * Whether {@link #batchNormTrainReluSlice} and {@link #batchNormReluBackwardIntoSlice} exist: a training plan's
     * BatchNorm + in-place ReLU at the end of a concat's input branch writing its output into its channels of the
     * concat's buffer, and reading its output gradient from the concat's gradient there (no copies either way). False
     * by default.
     */
    default boolean batchNormReluSlices() {
        return false;
    }

    /**
     * {@link #batchNormTrainRelu} with y channels [c0, c0 + C) of {@code yBuffer} (N, C', H, W), C' ≥ c0 + C (at
     * batch &gt; 1 not a contiguous range). Only where {@link #batchNormReluSlices}.
     */
    default void batchNormTrainReluSlice(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                         float momentum, float eps, Tensor yBuffer, int c0, Tensor saveMean,
                                         Tensor saveInvStd) {
        throw new UnsupportedOperationException(name() + " writes no BatchNorm channel slices");
    }

    /**
     * {@link #batchNormReluBackwardInto} on the output of {@link #batchNormTrainReluSlice}, dy channels [c0, c0 + C)
     * of {@code dyBuffer} (overwritten there with the masked gradient, as dy is). Only where
     * {@link #batchNormReluSlices}.
     */
    default void batchNormReluBackwardIntoSlice(Tensor x, Tensor dyBuffer, int c0, Tensor gamma, Tensor beta,
                                                Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                                Tensor dbeta) {
        throw new UnsupportedOperationException(name() + " writes no BatchNorm channel slices");
    }

    /** Eval-mode BatchNorm2d: y = gamma * (x - mean) / sqrt(var + eps) + beta. */
    void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y);

    /** Gradients of training-mode BatchNorm2d (added into dx, dgamma, dbeta). */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                           Tensor dx, Tensor dgamma, Tensor dbeta);

    /**
     * {@link #batchNormBackward} that overwrites dx instead of adding into it (dgamma and dbeta are still added
     * into). The executor calls it where this is the only contribution to dx, so dx need not be zeroed first. The
     * default zeroes dx and adds; a backend overrides it to skip that pass over memory.
     */
    default void batchNormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                       Tensor dx, Tensor dgamma, Tensor dbeta) {
        if (dx != null) fill(dx, 0f);
        batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    /**
     * The backward of a ReLU on a BatchNorm's training output ({@link #batchNormTrainRelu}'s y, or
     * {@link #batchNormTrain} then {@link #relu}), then that BatchNorm's {@link #batchNormBackwardInto}, in one op:
     * dy, the ReLU's output gradient, is overwritten with the BatchNorm's output gradient (dy where y &gt; 0, else +0:
     * {@link #reluBackwardInto}'s values), dx (not null) is overwritten, dgamma and dbeta are added into. y must be
     * the ReLU output for these x, gamma, beta and saved statistics: a backend may recompute its sign from them
     * instead of reading y (the CPU does: one pass over memory fewer). The default runs the two ops with dx as the
     * ReLU's output, copied into dy (no op runs in place, nothing is allocated).
     */
    default void batchNormReluBackwardInto(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor beta,
                                           Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                           Tensor dbeta) {
        reluBackwardInto(y, dy, dx);
        copy(dx, dy);
        batchNormBackwardInto(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    // ---- activations --------------------------------------------------------------------------------------

    /** y = max(x, 0); y may be x where {@link #reluInPlace} says so. */
    void relu(Tensor x, Tensor y);

    /**
     * Whether {@link #relu} with y = x and {@link #reluBackwardInto} with dx = dy run in place correctly (the
     * training plan then keeps one buffer for a BatchNorm's output and its ReLU's: {@code Executor.forTraining}).
     * False by default (the default reluBackwardInto zeroes dx before reading dy).
     */
    default boolean reluInPlace() {
        return false;
    }

    /** dx += dy where y > 0 (y is the ReLU output). */
    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * dx = dy where y > 0, else 0: {@link #reluBackward} overwriting dx (the executor calls it where this is the only
     * contribution to dx). The default zeroes dx and adds.
     */
    default void reluBackwardInto(Tensor y, Tensor dy, Tensor dx) {
        fill(dx, 0f);
        reluBackward(y, dy, dx);
    }

    /** y = min(max(x, lo), hi) (ReLU6 is clip(0, 6)). */
    void clip(Tensor x, float lo, float hi, Tensor y);

    /** dx += dy where lo < x < hi (PyTorch's hardtanh gradient). */
    void clipBackward(Tensor x, float lo, float hi, Tensor dy, Tensor dx);

    // ---- pooling ------------------------------------------------------------------------------------------

    void maxPool(Tensor x, Tensor y, PoolSpec s);

    /** Routes dy to the first maximal element of each window (the one PyTorch picks). */
    void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s);

    /**
     * {@link #maxPoolBackward} overwriting dx instead of adding into it (the executor calls it where this is the only
     * contribution to dx). The default zeroes dx and adds.
     */
    default void maxPoolBackwardInto(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        fill(dx, 0f);
        maxPoolBackward(x, dy, dx, s);
    }

    void avgPool(Tensor x, Tensor y, PoolSpec s);

    void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s);

    /** y (N, C, 1, 1) = mean over H, W of x (N, C, H, W). */
    void globalAvgPool(Tensor x, Tensor y);

    void globalAvgPoolBackward(Tensor dy, Tensor dx);

    // ---- elementwise, data movement -----------------------------------------------------------------------

    /** y = a + b (same shapes). */
    void add(Tensor a, Tensor b, Tensor y);

    /** dst += alpha * src (same element count). */
    void axpy(float alpha, Tensor src, Tensor dst);

    /**
     * For every image n: dst[n, dstC0 + c] (+)= src[n, srcC0 + c] for c in [0, channels); src and dst have the
     * same N, H, W. Used by Concat (forward: copy into a slice; backward: accumulate a slice).
     */
    void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int channels, boolean accumulate);

    /**
     * Inverted dropout: mask[i] = 0 with probability p, else 1/(1-p), drawn from a counter-based hash of
     * (seed, i) defined in {@link netslim.backend.cpu.ReferenceKernels#dropoutKeep}, so every backend draws the
     * same mask; y = x * mask.
     */
    void dropout(Tensor x, float p, long seed, Tensor mask, Tensor y);

    /** dx += dy * mask. */
    void dropoutBackward(Tensor dy, Tensor mask, Tensor dx);

    // ---- loss and optimiser -------------------------------------------------------------------------------

    /**
     * Mean softmax cross-entropy of logits (N, K) against integer labels, with optional label smoothing ε
     * (target = (1-ε)·onehot + ε/K). Writes softmax probabilities into probs (N, K) and returns the mean loss.
     */
    float softmaxCrossEntropy(Tensor logits, int[] labels, float labelSmoothing, Tensor probs);

    /** dlogits += scale · (probs − target) / N. */
    void softmaxCrossEntropyBackward(Tensor probs, int[] labels, float labelSmoothing, float scale, Tensor dlogits);

    /**
     * PyTorch's SGD step (dampening 0): g = grad + wd·p; v = momentum·v + g; g = nesterov ? g + momentum·v : v;
     * p -= lr·g. velocity may be null when momentum is 0.
     */
    void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                 boolean nesterov);

    /**
     * Brackets one pass of many ops (a forward or a backward of a plan) that the caller is about to issue back to
     * back: a host backend may keep its worker threads polling for the next op during the pass instead of parking
     * them after each (a wake-up per op costs microseconds), and park them when the pass ends. Close the result when
     * the pass ends (also on failure); brackets may nest and may come from several threads. The default does
     * nothing.
     */
    default Pass pass() {
        return Pass.NONE;
    }

    /**
     * How many lanes {@link #runLanes} runs at once: a host backend's threads, each lane single-threaded (a serving
     * plan's images, one per lane, instead of each image's ops spread over the threads). 1 by default (devices, and
     * host backends with one thread).
     */
    default int imageLanes() {
        return 1;
    }

    /**
     * Runs {@code lane.accept(l)} for l in [0, lanes) ({@code lanes} at most {@link #imageLanes()}) at once, each on
     * a thread of its own on which every op of this backend runs single-threaded; returns when all have finished and
     * rethrows the first failure. The default runs the one lane on the calling thread.
     */
    default void runLanes(int lanes, java.util.function.IntConsumer lane) {
        if (lanes > imageLanes()) {
            throw new IllegalArgumentException("lanes must be at most " + imageLanes() + ", got " + lanes);
        }
        for (int l = 0; l < lanes; l++) lane.accept(l);
    }

    /** The end of a {@link #pass()} bracket. */
    interface Pass extends AutoCloseable {
        Pass NONE = () -> { };

        @Override
        void close();
    }

    /**
     * A replayable form of {@code work}: a fixed sequence of this backend's ops on fixed buffers with fixed
     * arguments (an inference plan). The default runs {@code work} each time. A device backend may capture it once
     * into a graph and replay that (the CUDA backend: a CUDA graph, one launch per replay instead of one per kernel);
     * it runs {@code work} eagerly first, so lazily grown scratch buffers have their final size before the capture.
     * Throws a one-line {@link netslim.NetslimException} naming {@code what} when the capture fails.
     */
    default Replay replayable(String what, Runnable work) {
        return new Replay() {
            @Override
            public void run() {
                work.run();
            }

            @Override
            public boolean captured() {
                return false;
            }
        };
    }

    /** See {@link #replayable}. */
    interface Replay extends AutoCloseable {
        /** Runs (or enqueues, on a device) the work once more. */
        void run();

        /** Whether this is a captured graph rather than a plain re-run. */
        boolean captured();

        @Override
        default void close() {
        }
    }

    /**
     * Device-side timestamps for per-node timing on an asynchronous backend ({@code marks} of them, recorded in
     * stream order); null on host backends, where wall time around each op is exact.
     */
    default DeviceTimer deviceTimer(int marks) {
        return null;
    }

    /** See {@link #deviceTimer}. */
    interface DeviceTimer extends AutoCloseable {
        /** Records timestamp {@code i} after the work enqueued so far. */
        void mark(int i);

        /** Milliseconds between timestamps {@code from} and {@code to}; waits for {@code to} to be reached. */
        double elapsedMs(int from, int to);

        @Override
        void close();
    }

    /** Releases device resources; a no-op on the CPU. */
    @Override
    default void close() {
    }
}
