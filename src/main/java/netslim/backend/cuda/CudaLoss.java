package netslim.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static netslim.backend.cuda.KernelArgs.f;
import static netslim.backend.cuda.KernelArgs.dev;
import static netslim.backend.cuda.KernelArgs.i;
import static netslim.backend.cuda.KernelArgs.ptr;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import netslim.tensor.Tensor;

/**
 * Softmax cross-entropy on the GPU (native/loss.cu; Java reference: ReferenceKernels.softmaxCrossEntropy). The
 * labels are uploaded per call into a scratch buffer; the forward pass reads the per-row losses back (doubles)
 * and averages them on the host in double, as the reference does, which is the one host sync of a training step.
 */
final class CudaLoss {
    private final CudaContext ctx;
    private final DeviceScratch labelBuffer;
    private final DeviceScratch lossBuffer;

    CudaLoss(CudaContext ctx) {
        this.ctx = ctx;
        this.labelBuffer = new DeviceScratch(ctx, "labels");
        this.lossBuffer = new DeviceScratch(ctx, "row losses");
    }

    /** Checks (N, K) against labels and smoothing like the reference; returns {N, K}. */
    private static int[] check(Tensor in, int[] labels, float smoothing, Tensor out, String op) {
        CudaChecks.require(in.shape().rank() >= 2, op, "expected (N, K), got " + in.shape());
        int n = in.shape().dim(0), k = in.size() / Math.max(n, 1);
        CudaChecks.sameSize(in, out, op);
        CudaChecks.require(n > 0 && k > 0, op, "empty input " + in.shape());
        CudaChecks.require(labels.length == n, op, labels.length + " labels for a batch of " + n);
        CudaChecks.require(smoothing >= 0 && smoothing <= 1, op, "label smoothing " + smoothing + " outside [0, 1]");
        for (int r = 0; r < n; r++) {
            CudaChecks.require(labels[r] >= 0 && labels[r] < k, op, "label " + labels[r] + " at index " + r
                    + " is outside [0, " + k + ")");
        }
        return new int[] {n, k};
    }

    private CUdeviceptr uploadLabels(int[] labels) {
        CUdeviceptr p = labelBuffer.get((long) labels.length * Integer.BYTES);
        ctx.makeCurrent();
        CudaContext.check(cuMemcpyHtoD(p, Pointer.to(labels), (long) labels.length * Integer.BYTES), "upload labels");
        return p;
    }

    float forward(Tensor logits, int[] labels, float smoothing, Tensor probs) {
        int[] d = check(logits, labels, smoothing, probs, "softmaxCrossEntropy");
        int n = d[0], k = d[1];
        CUdeviceptr lab = uploadLabels(labels);
        CUdeviceptr rows = lossBuffer.get((long) n * Double.BYTES);
        ctx.launch(CudaKernel.XENT, n, CudaKernel.THREADS, ptr(logits), dev(lab), f(smoothing), i(k),
                ptr(probs), dev(rows));
        double[] rowLoss = new double[n];
        CudaContext.check(cuMemcpyDtoH(Pointer.to(rowLoss), rows, (long) n * Double.BYTES), "download losses");
        double total = 0;
        for (double v : rowLoss) total += v;
        return (float) (total / n);
    }

    void backward(Tensor probs, int[] labels, float smoothing, float scale, Tensor dlogits) {
        int[] d = check(probs, labels, smoothing, dlogits, "softmaxCrossEntropyBackward");
        CUdeviceptr lab = uploadLabels(labels);
        ctx.launch1d(CudaKernel.XENT_BACKWARD, (long) d[0] * d[1], ptr(probs), dev(lab), f(smoothing),
                f(scale), i(d[0]), i(d[1]), ptr(dlogits));
    }

    void close() {
        labelBuffer.release();
        lossBuffer.release();
    }
}
