package netslim.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static netslim.backend.cuda.KernelArgs.f;
import static netslim.backend.cuda.KernelArgs.i;
import static netslim.backend.cuda.KernelArgs.l;
import static netslim.backend.cuda.KernelArgs.ptr;
import static netslim.backend.cuda.KernelArgs.ptrOrNull;
import static netslim.backend.cuda.KernelArgs.struct;

import java.util.ArrayList;
import java.util.List;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The {@link Backend} on an NVIDIA GPU, through the JCuda driver API: device tensors ({@link CudaStorage}), our
 * kernels from {@code native/*.cu} (one launch per op, on one stream), GEMMs and convolutions on cuBLAS
 * ({@link CudaBlas}, {@link CudaConv}). Each op is checked against {@link ReferenceKernels} by the {@code gpu}-tagged
 * parity suite. Ops are asynchronous; {@link #download} and {@link #softmaxCrossEntropy} synchronise. Not
 * thread-safe (one executor per backend), but any thread may call it: the context is made current per thread.
 *
 * <p>Status: built and compiled on machines without a GPU; see README "CUDA backend" for what has run on one.
 */
public final class CudaBackend implements Backend {
    private final CudaContext ctx;
    private final CudaBlas blas;
    private final CudaConv conv;
    private final CudaLoss loss;
    private final String description;
    private final List<CudaStorage> allocations = new ArrayList<>();
    private boolean closed;

    /**
     * Choices of the CUDA backend. {@code tf32}: cuBLAS may use TF32 tensor cores. {@code batchedWeightGrad}: conv
     * weight gradients as one GEMM per group and image chunk instead of one per image. On by default since it
     * passed the parity suite on an H100 (2026-11-26) and trained googlenet-cifar batch 128 at 1,320 images/s
     * against 749 per image; {@code -Dnetslim.cuda.batchedWeightGrad=false} selects the per-image path (kept: the
     * parity suite runs both).
     */
    public record Options(boolean tf32, boolean batchedWeightGrad) {
        public static Options fp32() {
            return new Options(false, defaultBatchedWeightGrad());
        }
    }

    private static boolean defaultBatchedWeightGrad() {
        return Boolean.parseBoolean(System.getProperty("netslim.cuda.batchedWeightGrad", "true"));
    }

    private CudaBackend(CudaProbe.Result device, Options options) {
        this.ctx = new CudaContext();
        boolean tf32 = options.tf32();
        try {
            this.blas = new CudaBlas(ctx, tf32, device.driverVersion());
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
        this.conv = new CudaConv(ctx, blas, options.batchedWeightGrad());
        this.loss = new CudaLoss(ctx);
        this.description = "cuda (" + device.device() + ", " + (tf32 ? "TF32" : "FP32") + " GEMM"
                + (options.batchedWeightGrad() ? "" : ", per-image dW") + ")";
    }

    /** Whether a CUDA device works here (probed once, cached); never throws. */
    public static CudaProbe.Result probe() {
        return CudaProbe.probe();
    }

    /** The CUDA backend on device 0, FP32 or TF32 GEMMs; a one-line {@link NetslimException} when none works. */
    public static CudaBackend create(boolean tf32) {
        return create(new Options(tf32, defaultBatchedWeightGrad()));
    }

    /** The CUDA backend with explicit options; a one-line {@link NetslimException} when no device works. */
    public static CudaBackend create(Options options) {
        CudaProbe.Result r = probe();
        if (!r.available()) throw new NetslimException("no CUDA device: " + r.reason());
        return new CudaBackend(r, options);
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** Nothing to bracket: a pass's kernels queue on the stream; there are no host workers to keep awake. */
    @Override
    public Pass pass() {
        return Pass.NONE;
    }

    /**
     * The BatchNorm kernels, then the ReLU kernel on y in place (one element per thread, read before it is written).
     * The training plan does not call it here ({@link #reluInPlace} is false); the parity suite checks it on a GPU.
     */
    @Override
    public void batchNormTrainRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        Backend.super.batchNormTrainRelu(x, gamma, beta, runMean, runVar, momentum, eps, y, saveMean, saveInvStd);
    }

    /**
     * The interface's default: the ReLU kernel into dx, copied into dy, then the BatchNorm kernels (no operand in
     * place). The training plan does not call it here ({@link #reluInPlace} is false); the parity suite checks it.
     */
    @Override
    public void batchNormReluBackwardInto(Tensor x, Tensor y, Tensor dy, Tensor gamma, Tensor beta,
                                          Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                          Tensor dbeta) {
        Backend.super.batchNormReluBackwardInto(x, y, dy, gamma, beta, saveMean, saveInvStd, dx, dgamma, dbeta);
    }

    /** No: the GPU training plan keeps its concat copies (its ReLUs do not run in place). */
    @Override
    public boolean batchNormReluSlices() {
        return false;
    }

    @Override
    public void batchNormTrainReluSlice(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                        float momentum, float eps, Tensor yBuffer, int c0, Tensor saveMean,
                                        Tensor saveInvStd) {
        throw new UnsupportedOperationException("cuda writes no BatchNorm channel slices (batchNormReluSlices is "
                + "false)");
    }

    @Override
    public void batchNormReluBackwardIntoSlice(Tensor x, Tensor dyBuffer, int c0, Tensor gamma, Tensor beta,
                                               Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma,
                                               Tensor dbeta) {
        throw new UnsupportedOperationException("cuda writes no BatchNorm channel slices (batchNormReluSlices is "
                + "false)");
    }

    /** Zeroes dx, then the accumulating kernel (as the interface's default; no kernel of its own). */
    @Override
    public void maxPoolBackwardInto(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        Backend.super.maxPoolBackwardInto(x, dy, dx, s);
    }

    /** False: the kernels declare their operands {@code __restrict__}. */
    @Override
    public boolean reluInPlace() {
        return false;
    }

    /** One: the device runs a batch whole; serving plans on a device never split it into lanes. */
    @Override
    public int imageLanes() {
        return 1;
    }

    /** The one lane, on the calling thread. */
    @Override
    public void runLanes(int lanes, java.util.function.IntConsumer lane) {
        if (lanes > 1) throw new IllegalArgumentException("lanes must be at most 1 on " + name() + ", got " + lanes);
        if (lanes == 1) lane.accept(0);
    }

    @Override
    public boolean isHost() {
        return false;
    }

    @Override
    public String toString() {
        return description;
    }

    private static CUdeviceptr at(Tensor t) {
        return CudaStorage.of(t).at(t.offset());
    }

    // ---- memory -------------------------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape) {
        long n = shape.numel();
        CudaStorage s = new CudaStorage(ctx.allocate(n * Float.BYTES), n);
        allocations.add(s);
        return new Tensor(shape, s, 0);
    }

    @Override
    public void upload(Tensor host, Tensor dst) {
        CudaChecks.sameSize(host, dst, "upload");
        if (!host.isHost()) {
            copy(host, dst);
            return;
        }
        // A host view at an offset goes through a copy: JCuda host pointers are only used at offset 0 here.
        float[] src = host.offset() == 0 ? host.data() : host.toArray();
        ctx.makeCurrent();
        CudaContext.check(cuMemcpyHtoD(at(dst), Pointer.to(src), (long) host.size() * Float.BYTES),
                "upload " + dst.shape());
    }

    @Override
    public void download(Tensor src, Tensor host) {
        CudaChecks.sameSize(src, host, "download");
        float[] dst = host.offset() == 0 ? host.data() : new float[host.size()];
        ctx.makeCurrent();
        // Synchronous on the legacy default stream, which waits for our (blocking) stream: the results are final.
        CudaContext.check(cuMemcpyDtoH(Pointer.to(dst), at(src), (long) src.size() * Float.BYTES),
                "download " + src.shape() + " (or an earlier asynchronous kernel failed)");
        if (dst != host.data()) System.arraycopy(dst, 0, host.data(), host.offset(), dst.length);
    }

    @Override
    public void fill(Tensor t, float value) {
        ctx.makeCurrent();
        CudaContext.check(cuMemsetD32Async(at(t), Float.floatToRawIntBits(value), t.size(), ctx.stream()), "fill");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CudaChecks.sameSize(src, dst, "copy");
        ctx.makeCurrent();
        CudaContext.check(cuMemcpyDtoDAsync(at(dst), at(src), (long) src.size() * Float.BYTES, ctx.stream()), "copy");
    }

    // ---- linear algebra -----------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int offA, int lda,
                     Tensor b, int offB, int ldb, float beta, Tensor c, int offC, int ldc) {
        CudaChecks.require(m >= 0 && n >= 0 && k >= 0, "gemm", "negative size m=" + m + " n=" + n + " k=" + k);
        checkMatrix(a, offA, lda, transA ? k : m, transA ? m : k, "A");
        checkMatrix(b, offB, ldb, transB ? n : k, transB ? k : n, "B");
        checkMatrix(c, offC, ldc, m, n, "C");
        blas.gemm(transA, transB, m, n, k, alpha, CudaStorage.of(a).at(a.offset() + (long) offA), lda,
                CudaStorage.of(b).at(b.offset() + (long) offB), ldb, beta,
                CudaStorage.of(c).at(c.offset() + (long) offC), ldc);
    }

    private static void checkMatrix(Tensor t, int off, int ld, int rows, int cols, String name) {
        CudaChecks.require(off >= 0 && ld >= Math.max(1, cols), "gemm", name + ": offset " + off
                + " / leading dimension " + ld + " invalid for a stored " + rows + "x" + cols + " matrix");
        long end = rows == 0 || cols == 0 ? off : off + (long) (rows - 1) * ld + cols;
        CudaChecks.require(end <= t.size(), "gemm", name + ": matrix overruns tensor " + t.shape());
    }

    @Override
    public void im2col(Tensor x, int image, ConvSpec s, Tensor col) {
        conv.im2colImage(x, image, s, col);
    }

    @Override
    public void col2im(Tensor col, ConvSpec s, Tensor dx, int image) {
        conv.col2imImage(col, s, dx, image);
    }

    // ---- convolution and linear ---------------------------------------------------------------------------

    @Override
    public void conv2d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        conv.forward(x, w, bias, y, s);
    }

    /**
     * No prepared conv path on the GPU (Winograd is a CPU path): null, so the serving plan runs {@link #conv2d} /
     * {@link #conv2dRelu}, the GPU path that was verified.
     */
    @Override
    public Tensor prepareConvWeights(Tensor w, ConvSpec s, netslim.tensor.Shape x) {
        return null;
    }

    @Override
    public void conv2dPrepared(Tensor x, Tensor prepared, Tensor bias, Tensor y, ConvSpec s, boolean relu) {
        throw new UnsupportedOperationException("cuda prepares no conv weights (prepareConvWeights returns null)");
    }

    /** No channel-slice writes: the serving plan copies concat inputs on the GPU, as verified. */
    @Override
    public boolean writesChannelSlices(Tensor prepared, ConvSpec s) {
        return false;
    }

    @Override
    public void conv2dPreparedSlice(Tensor x, Tensor prepared, Tensor bias, Tensor y, int c0, ConvSpec s,
                                    boolean relu) {
        throw new UnsupportedOperationException("cuda writes no channel slices (writesChannelSlices is false)");
    }

    @Override
    public void conv2dPreparedSplitSlices(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, int[] c0s,
                                          int[] couts, ConvSpec stacked, boolean relu) {
        throw new UnsupportedOperationException("cuda writes no channel slices (writesChannelSlices is false)");
    }

    @Override
    public Tensor prepareSplitPointwise(Tensor w, ConvSpec stacked, int[] couts, netslim.tensor.Shape x) {
        return null;
    }

    @Override
    public void conv2dPreparedSplit(Tensor x, Tensor prepared, Tensor bias, Tensor[] ys, ConvSpec stacked,
                                    boolean relu) {
        throw new UnsupportedOperationException(
                "cuda prepares no split pointwise weights (prepareSplitPointwise returns null)");
    }

    /**
     * The conv without its bias, then one epilogue kernel: y = relu(y + b[c]) in place (bias_relu), which saves a
     * launch and a full read and write of y against channel_bias followed by relu. Without a bias: the conv, then
     * the ReLU kernel in place.
     */
    @Override
    public void conv2dRelu(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        if (bias != null) CudaChecks.shape(bias, "conv2dRelu", "bias", s.outChannels());
        conv.forward(x, w, null, y, s);
        if (bias == null) {
            relu(y, y);
            return;
        }
        int hw = y.shape().h() * y.shape().w();
        ctx.launch1d(CudaKernel.BIAS_RELU, y.size(), ptr(y), ptr(bias), i(s.outChannels()), i(hw), l(y.size()));
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        conv.backward(x, w, dy, dx, dw, db, s);
    }

    /** Zeroes dx, then the accumulating backward (the interface's default). */
    @Override
    public void conv2dBackwardInto(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        Backend.super.conv2dBackwardInto(x, w, dy, dx, dw, db, s);
    }

    /**
     * The members one by one (the interface's default). The training plan calls it only on host backends; the
     * parity suite checks it here.
     */
    @Override
    public void conv2dSiblings(Tensor x, Tensor[] ws, Tensor[] bs, Tensor[] ys, ConvSpec[] specs) {
        Backend.super.conv2dSiblings(x, ws, bs, ys, specs);
    }

    /** The members' backwards one by one, the last first (the interface's default); see {@link #conv2dSiblings}. */
    @Override
    public void conv2dSiblingsBackward(Tensor x, Tensor[] ws, Tensor[] dys, Tensor dx, Tensor[] dws, Tensor[] dbs,
                                       ConvSpec[] specs) {
        Backend.super.conv2dSiblingsBackward(x, ws, dys, dx, dws, dbs, specs);
    }

    /** x (N, in...), w (out, in), y (N, out...): returns {N, in, out}. */
    private static int[] checkLinear(Tensor x, Tensor w, Tensor y, String op) {
        CudaChecks.require(w.shape().rank() == 2, op, "w must be (out, in), got " + w.shape());
        int batch = x.shape().dim(0), in = w.shape().dim(1), out = w.shape().dim(0);
        CudaChecks.require(x.size() == (long) batch * in, op, "x " + x.shape() + " does not match w " + w.shape());
        CudaChecks.require(y.shape().dim(0) == batch && y.size() == (long) batch * out, op,
                "y/dy " + y.shape() + " must be " + batch + "x" + out);
        return new int[] {batch, in, out};
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor b, Tensor y) {
        int[] d = checkLinear(x, w, y, "linear");
        gemm(false, true, d[0], d[2], d[1], 1f, x, 0, d[1], w, 0, d[1], 0f, y, 0, d[2]);
        if (b != null) {
            CudaChecks.shape(b, "linear", "b", d[2]);
            ctx.launch1d(CudaKernel.CHANNEL_BIAS, y.size(), ptr(y), ptr(b), i(d[2]), i(1), l(y.size()));
        }
    }

    @Override
    public void linearBackward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db) {
        int[] d = checkLinear(x, w, dy, "linearBackward");
        int batch = d[0], in = d[1], out = d[2];
        if (dx != null) {
            CudaChecks.sameSize(dx, x, "linearBackward dx");
            gemm(false, false, batch, in, out, 1f, dy, 0, out, w, 0, in, 1f, dx, 0, in);
        }
        if (dw != null) {
            CudaChecks.shape(dw, w.shape(), "linearBackward", "dw");
            gemm(true, false, out, in, batch, 1f, dy, 0, out, x, 0, in, 1f, dw, 0, in);
        }
        if (db != null) {
            CudaChecks.shape(db, "linearBackward", "db", out);
            ctx.launch(CudaKernel.CHANNEL_SUM, out, CudaKernel.REDUCE_THREADS, ptr(dy), i(batch), i(out), i(1),
                    ptr(db));
        }
    }

    // ---- normalisation ------------------------------------------------------------------------------------

    /** Checks x against y and the per-channel vectors; returns H·W. */
    private static int checkBn(Tensor x, Tensor y, String op, Tensor... perChannel) {
        int hw = CudaChecks.spatial(x, op);
        CudaChecks.require((long) x.shape().n() * hw < Integer.MAX_VALUE, op,
                "N·H·W of " + x.shape() + " must be below 2^31 (32-bit per-channel indexing)");
        CudaChecks.shape(y, x.shape(), op, "y/dy");
        for (Tensor t : perChannel) {
            CudaChecks.require(t != null, op, "per-channel tensors must not be null");
            CudaChecks.shape(t, op, "per-channel tensor", x.shape().c());
        }
        return hw;
    }

    @Override
    public void batchNormTrain(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, float momentum,
                               float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        int hw = checkBn(x, y, "batchNormTrain", gamma, beta, runMean, runVar, saveMean, saveInvStd);
        int n = x.shape().n(), c = x.shape().c();
        CudaChecks.require((long) n * hw > 1, "batchNormTrain",
                "expected more than 1 value per channel when training, got " + x.shape());
        ctx.launch(CudaKernel.BN_TRAIN, c, CudaKernel.REDUCE_THREADS, ptr(x), ptr(gamma), ptr(beta), ptr(runMean),
                ptr(runVar), f(momentum), f(eps), ptr(y), ptr(saveMean), ptr(saveInvStd), i(n), i(c), i(hw));
    }

    @Override
    public void batchNormEval(Tensor x, Tensor gamma, Tensor beta, Tensor mean, Tensor var, float eps, Tensor y) {
        int hw = checkBn(x, y, "batchNormEval", gamma, beta, mean, var);
        ctx.launch1d(CudaKernel.BN_EVAL, x.size(), ptr(x), ptr(gamma), ptr(beta), ptr(mean), ptr(var), f(eps),
                ptr(y), i(x.shape().c()), i(hw), l(x.size()));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, true);
    }

    @Override
    public void batchNormBackwardInto(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                      Tensor dx, Tensor dgamma, Tensor dbeta) {
        batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, false);
    }

    private void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                   Tensor dx, Tensor dgamma, Tensor dbeta, boolean accumulate) {
        int hw = checkBn(x, dy, "batchNormBackward", gamma, saveMean, saveInvStd);
        if (dx != null) CudaChecks.shape(dx, x.shape(), "batchNormBackward", "dx");
        if (dgamma != null) CudaChecks.shape(dgamma, gamma.shape(), "batchNormBackward", "dgamma");
        if (dbeta != null) CudaChecks.shape(dbeta, gamma.shape(), "batchNormBackward", "dbeta");
        int n = x.shape().n(), c = x.shape().c();
        ctx.launch(CudaKernel.BN_BACKWARD, c, CudaKernel.REDUCE_THREADS, ptr(x), ptr(dy), ptr(gamma), ptr(saveMean),
                ptr(saveInvStd), ptrOrNull(dx), ptrOrNull(dgamma), ptrOrNull(dbeta), i(n), i(c), i(hw),
                i(accumulate ? 1 : 0));
    }

    // ---- activations --------------------------------------------------------------------------------------

    @Override
    public void relu(Tensor x, Tensor y) {
        CudaChecks.sameSize(x, y, "relu");
        ctx.launch1d(CudaKernel.RELU, x.size(), ptr(x), ptr(y), l(x.size()));
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        reluBackward(y, dy, dx, true, "reluBackward");
    }

    @Override
    public void reluBackwardInto(Tensor y, Tensor dy, Tensor dx) {
        reluBackward(y, dy, dx, false, "reluBackwardInto");
    }

    private void reluBackward(Tensor y, Tensor dy, Tensor dx, boolean accumulate, String op) {
        CudaChecks.sameSize(y, dy, op);
        CudaChecks.sameSize(dy, dx, op);
        ctx.launch1d(CudaKernel.RELU_BACKWARD, y.size(), ptr(y), ptr(dy), ptr(dx), l(y.size()), i(accumulate ? 1 : 0));
    }

    @Override
    public void clip(Tensor x, float lo, float hi, Tensor y) {
        CudaChecks.sameSize(x, y, "clip");
        ctx.launch1d(CudaKernel.CLIP, x.size(), ptr(x), f(lo), f(hi), ptr(y), l(x.size()));
    }

    @Override
    public void clipBackward(Tensor x, float lo, float hi, Tensor dy, Tensor dx) {
        CudaChecks.sameSize(x, dy, "clipBackward");
        CudaChecks.sameSize(dy, dx, "clipBackward");
        ctx.launch1d(CudaKernel.CLIP_BACKWARD, x.size(), ptr(x), f(lo), f(hi), ptr(dy), ptr(dx), l(x.size()));
    }

    // ---- pooling ------------------------------------------------------------------------------------------

    /** PoolGeom of native/common.cuh for x (N, C, H, W) → y (N, C, oh, ow), after checking y's shape. */
    private static Pointer poolGeometry(Tensor x, Tensor y, PoolSpec s, String op) {
        CudaChecks.rank4(x, op, "x");
        int h = x.shape().h(), w = x.shape().w(), oh = s.outH(h), ow = s.outW(w);
        CudaChecks.require(oh > 0 && ow > 0, op, "input " + x.shape() + " is smaller than the window of " + s);
        CudaChecks.shape(y, op, "y", x.shape().n(), x.shape().c(), oh, ow);
        return struct(h, w, oh, ow, s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(),
                s.countIncludePad() ? 1 : 0);
    }

    @Override
    public void maxPool(Tensor x, Tensor y, PoolSpec s) {
        Pointer g = poolGeometry(x, y, s, "maxPool");
        ctx.launch1d(CudaKernel.MAX_POOL, y.size(), ptr(x), g, ptr(y), l(y.size()));
    }

    @Override
    public void maxPoolBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s) {
        Pointer g = poolGeometry(x, dy, s, "maxPoolBackward");
        CudaChecks.shape(dx, x.shape(), "maxPoolBackward", "dx");
        ctx.launch1d(CudaKernel.MAX_POOL_BACKWARD, x.size(), ptr(x), ptr(dy), g, ptr(dx), l(x.size()));
    }

    @Override
    public void avgPool(Tensor x, Tensor y, PoolSpec s) {
        Pointer g = poolGeometry(x, y, s, "avgPool");
        ctx.launch1d(CudaKernel.AVG_POOL, y.size(), ptr(x), g, ptr(y), l(y.size()));
    }

    @Override
    public void avgPoolBackward(Tensor dy, Tensor dx, PoolSpec s) {
        Pointer g = poolGeometry(dx, dy, s, "avgPoolBackward");
        ctx.launch1d(CudaKernel.AVG_POOL_BACKWARD, dx.size(), ptr(dy), g, ptr(dx), l(dx.size()));
    }

    private static int checkGlobal(Tensor x, Tensor y, String op) {
        CudaChecks.rank4(x, op, "x");
        CudaChecks.shape(y, op, "y", x.shape().n(), x.shape().c(), 1, 1);
        return x.shape().h() * x.shape().w();
    }

    @Override
    public void globalAvgPool(Tensor x, Tensor y) {
        int hw = checkGlobal(x, y, "globalAvgPool");
        int warpsPerBlock = CudaKernel.THREADS / 32;
        int blocks = (int) Math.min((y.size() + warpsPerBlock - 1) / warpsPerBlock, 65535);
        ctx.launch(CudaKernel.GLOBAL_AVG_POOL, blocks, CudaKernel.THREADS, ptr(x), ptr(y), i(hw), l(y.size()));
    }

    @Override
    public void globalAvgPoolBackward(Tensor dy, Tensor dx) {
        int hw = checkGlobal(dx, dy, "globalAvgPoolBackward");
        ctx.launch1d(CudaKernel.GLOBAL_AVG_POOL_BACKWARD, dx.size(), ptr(dy), ptr(dx), i(hw), l(dx.size()));
    }

    // ---- elementwise, data movement -----------------------------------------------------------------------

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        CudaChecks.sameSize(a, b, "add");
        CudaChecks.sameSize(a, y, "add");
        ctx.launch1d(CudaKernel.ADD, a.size(), ptr(a), ptr(b), ptr(y), l(a.size()));
    }

    @Override
    public void axpy(float alpha, Tensor src, Tensor dst) {
        CudaChecks.sameSize(src, dst, "axpy");
        ctx.launch1d(CudaKernel.AXPY, src.size(), f(alpha), ptr(src), ptr(dst), l(src.size()));
    }

    @Override
    public void copyChannels(Tensor src, int srcC0, Tensor dst, int dstC0, int channels, boolean accumulate) {
        int hw = CudaChecks.spatial(src, "copyChannels");
        CudaChecks.require(CudaChecks.spatial(dst, "copyChannels") == hw && src.shape().n() == dst.shape().n(),
                "copyChannels", "src " + src.shape() + " and dst " + dst.shape() + " differ in N or spatial size");
        int srcC = src.shape().c(), dstC = dst.shape().c();
        CudaChecks.require(channels >= 0 && srcC0 >= 0 && dstC0 >= 0 && srcC0 + channels <= srcC
                && dstC0 + channels <= dstC, "copyChannels", channels + " channels fall outside");
        long n = (long) src.shape().n() * channels * hw;
        ctx.launch1d(CudaKernel.COPY_CHANNELS, n, ptr(src), i(srcC), i(srcC0), ptr(dst), i(dstC), i(dstC0),
                i(channels), i(hw), i(accumulate ? 1 : 0), l(n));
    }

    @Override
    public void dropout(Tensor x, float p, long seed, Tensor mask, Tensor y) {
        CudaChecks.require(p >= 0 && p <= 1, "dropout", "probability " + p + " outside [0, 1]");
        CudaChecks.sameSize(x, mask, "dropout");
        CudaChecks.sameSize(x, y, "dropout");
        float keepScale = p < 1 ? 1f / (1f - p) : 0f; // as ReferenceKernels.dropout, in float
        ctx.launch1d(CudaKernel.DROPOUT, x.size(), ptr(x), f(p), f(keepScale), l(seed), ptr(mask), ptr(y),
                l(x.size()));
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor mask, Tensor dx) {
        CudaChecks.sameSize(dy, mask, "dropoutBackward");
        CudaChecks.sameSize(dy, dx, "dropoutBackward");
        ctx.launch1d(CudaKernel.DROPOUT_BACKWARD, dy.size(), ptr(dy), ptr(mask), ptr(dx), l(dy.size()));
    }

    // ---- loss and optimiser -------------------------------------------------------------------------------

    @Override
    public float softmaxCrossEntropy(Tensor logits, int[] labels, float labelSmoothing, Tensor probs) {
        return loss.forward(logits, labels, labelSmoothing, probs);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, int[] labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        loss.backward(probs, labels, labelSmoothing, scale, dlogits);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay,
                        boolean nesterov) {
        CudaChecks.sameSize(param, grad, "sgdStep");
        CudaChecks.require(velocity != null || momentum == 0, "sgdStep", "momentum " + momentum
                + " needs a velocity tensor");
        if (velocity != null) CudaChecks.sameSize(param, velocity, "sgdStep");
        ctx.launch1d(CudaKernel.SGD, param.size(), ptr(param), ptr(grad), ptrOrNull(velocity),
                i(velocity != null ? 1 : 0), f(lr), f(momentum), f(weightDecay), i(nesterov ? 1 : 0),
                l(param.size()));
    }

    // ---- graphs and timing -----------------------------------------------------------------------------------

    /**
     * Runs {@code work} once eagerly (scratch buffers reach their final size, cuBLAS sets itself up), then captures
     * it into a CUDA graph; each {@link Replay#run} is then one {@code cuGraphLaunch} on this backend's stream.
     */
    @Override
    public Replay replayable(String what, Runnable work) {
        work.run();
        jcuda.driver.CUgraphExec exec = ctx.capture(what, work);
        return new Replay() {
            private boolean closed;

            @Override
            public void run() {
                if (closed) throw new IllegalStateException("replay of " + what + " after close");
                ctx.launchGraph(exec, what);
            }

            @Override
            public boolean captured() {
                return true;
            }

            @Override
            public void close() {
                if (closed) return;
                closed = true;
                ctx.destroyGraph(exec);
            }
        };
    }

    /** CUDA events recorded on this backend's stream. */
    @Override
    public DeviceTimer deviceTimer(int marks) {
        jcuda.driver.CUevent[] ev = ctx.events(marks);
        return new DeviceTimer() {
            @Override
            public void mark(int i) {
                ctx.record(ev[i]);
            }

            @Override
            public double elapsedMs(int from, int to) {
                return ctx.elapsedMs(ev[from], ev[to]);
            }

            @Override
            public void close() {
                ctx.destroy(ev);
            }
        };
    }

    /** Frees every tensor this backend allocated, the scratch buffers, cuBLAS and the context. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.synchronize("close");
        conv.close();
        loss.close();
        for (CudaStorage s : allocations) ctx.free(s.base());
        allocations.clear();
        blas.close();
        ctx.close();
    }
}
