package netslim.backend.cpu;

import java.nio.FloatBuffer;

import netslim.backend.ConvSpec;
import netslim.tensor.Tensor;

/**
 * Sibling pointwise convs — 1x1 convs reading the same x, such as an inception block's branch heads — in a training
 * step, as one product over their stacked weights on OpenBLAS, image by image (the images in contiguous shares, one
 * per thread, as {@link CpuConv}'s per-image pointwise paths run):
 * <ul>
 * <li>forward: Y_s,n = W_s · X_n, one product with as many rows as the members have outputs together, its rows
 * copied out to the members' outputs (x staged once per image, not once per member);</li>
 * <li>backward: dX_n += W_sᵀ · dY_s,n — one product whose reduction runs over all members' outputs, instead of one
 * per member each reading and writing dX_n — and dW_s += dY_s,n · X_nᵀ, summed in native memory over the share's
 * images and added into the members' weight gradients at the end; on maps under {@link #SIDE_BY_SIDE_BELOW} pixels
 * the share's images go side by side into one product of each kind.</li>
 * </ul>
 * The stacking copies nothing extra: the OpenBLAS route stages every operand into native memory anyway
 * ({@link NativeStaging}); here the members' blocks are staged into consecutive rows of one buffer. Results equal
 * the members' convs one by one up to the order of the additions in dX (one reduction of length Σ outputs instead
 * of one per member).
 */
final class SiblingPointwise {
    private final WorkerPool pool;

    /** Per thread: W_s, the image's operand (X_n or dY_s,n), X_n, dX_n or Y_s,n, dW_s. */
    private static final ThreadLocal<NativeStaging.Slot[]> SLOTS = ThreadLocal.withInitial(() -> new NativeStaging.Slot[] {
            new NativeStaging.Slot(), new NativeStaging.Slot(), new NativeStaging.Slot(), new NativeStaging.Slot(),
            new NativeStaging.Slot()});

    /** The shares' weight gradients (share q at q · Σout · in), on the calling thread; only grows. */
    private static final ThreadLocal<float[][]> PARTIAL = ThreadLocal.withInitial(() -> new float[][] {new float[0]});

    SiblingPointwise(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * -Dnetslim.train.stackedSiblings=false: the members run one by one (the interface's default). Not final: probes
     * flip it.
     */
    static boolean ENABLED = !"false".equals(System.getProperty("netslim.train.stackedSiblings"));

    /**
     * Whether this kernel takes the call: OpenBLAS as the backend's GEMM, at least two threads and as many images,
     * every member pointwise with x's channel count as its inputs.
     */
    boolean takes(boolean openBlas, Tensor x, ConvSpec[] specs) {
        if (!ENABLED || !openBlas || pool.threads() < 2 || x.shape().rank() != 4 || x.shape().n() < pool.threads()) {
            return false;
        }
        for (ConvSpec s : specs) {
            if (!s.isPointwise() || s.inChannels() != x.shape().c()) return false;
        }
        return specs.length >= 2;
    }

    /** ys[i] = ws[i] · x (+ bs[i]); shapes checked. */
    void forward(Tensor x, Tensor[] ws, Tensor[] bs, Tensor[] ys, ConvSpec[] specs) {
        Members m = members(x, ws, specs, "conv2dSiblings");
        for (int i = 0; i < ys.length; i++) {
            ShapeChecks.requireShape(ys[i], "conv2dSiblings", "ys[" + i + "]", m.images, m.out[i],
                    x.shape().h(), x.shape().w());
            if (bs[i] != null) ShapeChecks.requireShape(bs[i], "conv2dSiblings", "bs[" + i + "]", m.out[i]);
        }
        int images = m.images, in = m.in, hw = m.hw, rows = m.rows;
        int parts = Math.min(pool.threads(), images);
        pool.parallelFor(parts, 1, (q0, q1) -> {
            NativeStaging.Slot[] sl = SLOTS.get();
            for (int q = q0; q < q1; q++) {
                FloatBuffer a = m.stageWeights(sl[0], ws);
                for (int n = WorkerPool.split(images, parts, q), end = WorkerPool.split(images, parts, q + 1);
                     n < end; n++) {
                    FloatBuffer b = sl[1].stage(x.data(), x.offset() + n * in * hw, in, hw, hw);
                    FloatBuffer c = sl[3].reserve(rows * hw);
                    OpenBlasGemm.nativeProduct(false, false, rows, hw, in, a, b, 0f, c);
                    for (int i = 0; i < ys.length; i++) {
                        int yo = ys[i].offset() + n * m.out[i] * hw;
                        sl[3].unstageFrom(m.row0[i] * hw, ys[i].data(), yo, m.out[i] * hw);
                        for (int ch = 0; bs[i] != null && ch < m.out[i]; ch++) {
                            CpuConv.biasRelu(ys[i].data(), yo + ch * hw, hw, bs[i].data(), bs[i].offset() + ch, false);
                        }
                    }
                }
            }
        });
    }

    /**
     * dx += Σ ws[i]ᵀ · dys[i], dws[i] += dys[i] · xᵀ (dx may be null; the bias gradients are the caller's); shapes
     * checked.
     */
    void backward(Tensor x, Tensor[] ws, Tensor[] dys, Tensor dx, Tensor[] dws, ConvSpec[] specs) {
        Members m = members(x, ws, specs, "conv2dSiblingsBackward");
        for (int i = 0; i < dys.length; i++) {
            ShapeChecks.requireShape(dys[i], "conv2dSiblingsBackward", "dys[" + i + "]", m.images, m.out[i],
                    x.shape().h(), x.shape().w());
            ShapeChecks.requireShape(dws[i], ws[i].shape(), "conv2dSiblingsBackward", "dws[" + i + "]");
        }
        if (dx != null) ShapeChecks.requireShape(dx, x.shape(), "conv2dSiblingsBackward", "dx");
        int images = m.images, in = m.in, hw = m.hw, rows = m.rows, size = rows * in;
        int parts = Math.min(pool.threads(), images);
        float[][] holder = PARTIAL.get();
        if (holder[0].length < parts * size) holder[0] = new float[parts * size];
        float[] partial = holder[0];
        boolean sideBySide = hw < SIDE_BY_SIDE_BELOW;
        pool.parallelFor(parts, 1, (q0, q1) -> {
            NativeStaging.Slot[] sl = SLOTS.get();
            for (int q = q0; q < q1; q++) {
                FloatBuffer a = dx == null ? null : m.stageWeights(sl[0], ws);
                FloatBuffer sums = sl[4].reserve(size);
                int first = WorkerPool.split(images, parts, q), end = WorkerPool.split(images, parts, q + 1);
                if (sideBySide) shareSideBySide(m, sl, a, sums, x, dys, dx, first, end - first);
                for (int n = first; n < end && !sideBySide; n++) {
                    FloatBuffer g = sl[1].reserve(rows * hw);
                    for (int i = 0; i < dys.length; i++) {
                        sl[1].stageAt(m.row0[i] * hw, dys[i].data(), dys[i].offset() + n * m.out[i] * hw,
                                m.out[i] * hw);
                    }
                    int xo = n * in * hw;
                    FloatBuffer xb = sl[2].stage(x.data(), x.offset() + xo, in, hw, hw);
                    OpenBlasGemm.nativeProduct(false, true, rows, in, hw, g, xb, n == first ? 0f : 1f, sums);
                    if (dx != null) {
                        FloatBuffer c = sl[3].stage(dx.data(), dx.offset() + xo, in, hw, hw);
                        OpenBlasGemm.nativeProduct(true, false, in, hw, rows, a, g, 1f, c);
                        sl[3].unstage(dx.data(), dx.offset() + xo, in, hw, hw);
                    }
                }
                sl[4].unstageFrom(0, partial, q * size, size);
            }
        });
        for (int i = 0; i < dws.length; i++) {
            CpuConv.addParts(pool, partial, m.row0[i] * in, size, parts, m.out[i] * in, dws[i].data(),
                    dws[i].offset());
        }
    }

    /**
     * Maps of fewer pixels than this (GoogLeNet's 7x7) run a share's backward as two products over its images side by
     * side — dW_s = dY_s · Xᵀ with a reduction over all the share's pixels, dX = W_sᵀ · dY_s with as many columns —
     * instead of two per image: products of 49 columns run far below the GEMM's rate (the batched path of
     * {@link CpuConv} wins there too, see {@link CpuConv#perImageBackward}).
     */
    static int SIDE_BY_SIDE_BELOW = 196; // not final: probes flip it

    /** One share's backward on its images side by side (see {@link #SIDE_BY_SIDE_BELOW}); sums overwritten. */
    private static void shareSideBySide(Members m, NativeStaging.Slot[] sl, FloatBuffer a, FloatBuffer sums, Tensor x,
                                        Tensor[] dys, Tensor dx, int first, int count) {
        int in = m.in, hw = m.hw, rows = m.rows, cols = count * hw;
        FloatBuffer g = sl[1].reserve(rows * cols);
        for (int i = 0; i < dys.length; i++) {
            sideBySide(sl[1], true, m.row0[i], cols, dys[i].data(), dys[i].offset(), m.out[i], hw, first, count);
        }
        FloatBuffer xb = sl[2].reserve(in * cols);
        sideBySide(sl[2], true, 0, cols, x.data(), x.offset(), in, hw, first, count);
        OpenBlasGemm.nativeProduct(false, true, rows, in, cols, g, xb, 0f, sums);
        if (dx != null) {
            FloatBuffer c = sl[3].reserve(in * cols);
            sideBySide(sl[3], true, 0, cols, dx.data(), dx.offset(), in, hw, first, count);
            OpenBlasGemm.nativeProduct(true, false, in, cols, rows, a, g, 1f, c);
            sideBySide(sl[3], false, 0, cols, dx.data(), dx.offset(), in, hw, first, count);
        }
    }

    /**
     * Between an NCHW tensor's planes (channels of images first .. first + count − 1) and a staged matrix whose row
     * rowBase + c holds channel c of those images side by side (image first + j at column j · hw): in, or out.
     */
    private static void sideBySide(NativeStaging.Slot slot, boolean in, int rowBase, int cols, float[] t, int off,
                                   int channels, int hw, int first, int count) {
        for (int j = 0; j < count; j++) {
            for (int c = 0; c < channels; c++) {
                int at = (rowBase + c) * cols + j * hw, o = off + ((first + j) * channels + c) * hw;
                if (in) slot.stageAt(at, t, o, hw);
                else slot.unstageFrom(at, t, o, hw);
            }
        }
    }

    /** The call's geometry: each member's output count and first row in the stack. */
    private record Members(int images, int in, int hw, int rows, int[] out, int[] row0) {
        /** Stages the members' weights as consecutive rows (rows x in). */
        FloatBuffer stageWeights(NativeStaging.Slot slot, Tensor[] ws) {
            FloatBuffer a = slot.reserve(rows * in);
            for (int i = 0; i < ws.length; i++) slot.stageAt(row0[i] * in, ws[i].data(), ws[i].offset(), out[i] * in);
            return a;
        }
    }

    private static Members members(Tensor x, Tensor[] ws, ConvSpec[] specs, String op) {
        int in = x.shape().c(), rows = 0;
        int[] out = new int[ws.length], row0 = new int[ws.length];
        for (int i = 0; i < ws.length; i++) {
            out[i] = specs[i].outChannels();
            ShapeChecks.requireShape(ws[i], op, "ws[" + i + "]", out[i], in, 1, 1);
            row0[i] = rows;
            rows += out[i];
        }
        return new Members(x.shape().n(), in, x.shape().h() * x.shape().w(), rows, out, row0);
    }
}
