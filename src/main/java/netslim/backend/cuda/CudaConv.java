package netslim.backend.cuda;

import static netslim.backend.cuda.KernelArgs.dev;
import static netslim.backend.cuda.KernelArgs.i;
import static netslim.backend.cuda.KernelArgs.l;
import static netslim.backend.cuda.KernelArgs.ptr;
import static netslim.backend.cuda.KernelArgs.struct;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import netslim.backend.ConvSpec;
import netslim.tensor.Tensor;

/**
 * Convolution on the GPU as im2col + cuBLAS GEMM (Java reference: ReferenceConv). Images are processed in chunks
 * whose columns fit the scratch limit ({@code -Dnetslim.cuda.colMB}, default 256): per chunk, one im2col launch
 * for all its images, then per group one strided-batched GEMM over the chunk's images (W_g shared, stride 0).
 * Pointwise convolutions (1x1, stride 1, no padding, one group) skip im2col: the input image is already the column
 * matrix. Backward: dW accumulates one GEMM per image and group (sums over images must be sequential in one
 * buffer); dX is a batched GEMM into the column buffer then one col2im launch (a gather, no atomics).
 *
 * <p>With {@link CudaBackend.Options#batchedWeightGrad} (the default; verified on an H100) dW instead takes one
 * GEMM per group and chunk: dy and the columns are laid out channel-major over the whole chunk
 * ({@code (out, images·P)} and {@code (C·kh·kw, images·P)}), so k = images·P sums over the images inside cuBLAS,
 * at the cost of one transpose of dy (and of x for 1x1 convs).
 */
final class CudaConv {
    private final CudaContext ctx;
    private final CudaBlas blas;
    private final DeviceScratch col;
    private final DeviceScratch transposed;
    private final boolean batchedWeightGrad;
    private final long colLimitFloats = Long.getLong("netslim.cuda.colMB", 256L) << 18; // MB → floats

    CudaConv(CudaContext ctx, CudaBlas blas, boolean batchedWeightGrad) {
        this.ctx = ctx;
        this.blas = blas;
        this.batchedWeightGrad = batchedWeightGrad;
        this.col = new DeviceScratch(ctx, "im2col");
        this.transposed = new DeviceScratch(ctx, "dy transposed");
    }

    /** The checked sizes of one call: batch, planes, per-group GEMM dimensions. */
    record Dims(int n, int h, int w, int oh, int ow, int cinG, int coutG, int k, int p) {
        /** Column elements per image: C·kh·kw rows of oh·ow. */
        long colPerImage(ConvSpec s) {
            return (long) s.inChannels() * s.kh() * s.kw() * p;
        }
    }

    static Dims dims(Tensor x, Tensor w, Tensor y, ConvSpec s, String op) {
        CudaChecks.rank4(x, op, "x");
        CudaChecks.require(x.shape().c() == s.inChannels(), op, "x " + x.shape() + " does not have "
                + s.inChannels() + " channels");
        int h = x.shape().h(), wd = x.shape().w(), oh = s.outH(h), ow = s.outW(wd);
        CudaChecks.require(oh > 0 && ow > 0, op, "input " + x.shape() + " is smaller than the kernel of " + s);
        CudaChecks.shape(w, op, "w", s.outChannels(), s.inChannels() / s.groups(), s.kh(), s.kw());
        CudaChecks.shape(y, op, "y", x.shape().n(), s.outChannels(), oh, ow);
        int cinG = s.inChannels() / s.groups();
        return new Dims(x.shape().n(), h, wd, oh, ow, cinG, s.outChannels() / s.groups(), cinG * s.kh() * s.kw(),
                oh * ow);
    }

    /** ConvGeom of native/common.cuh, field for field. */
    static Pointer geometry(ConvSpec s, int h, int w) {
        return struct(s.inChannels(), h, w, s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(),
                s.dilationH(), s.dilationW(), s.outH(h), s.outW(w));
    }

    private static CUdeviceptr at(Tensor t, long elements) {
        return CudaStorage.of(t).at(t.offset() + elements);
    }

    private int chunkImages(Dims d, ConvSpec s) {
        return (int) Math.max(1, Math.min(d.n(), colLimitFloats / Math.max(1, d.colPerImage(s))));
    }

    /** Columns of images [n0, n0 + images): image-major (col[img][row][p]) or row-major (col[row][img·P + p]). */
    private CUdeviceptr im2col(Tensor x, ConvSpec s, Dims d, int n0, int images, boolean imageMajor) {
        CUdeviceptr c = col.get(d.colPerImage(s) * images * Float.BYTES);
        ctx.launchPlanes(CudaKernel.IM2COL, (long) images * d.k() * s.groups(), d.p(), ptr(x),
                geometry(s, d.h(), d.w()), i(n0), i(images), i(imageMajor ? 1 : 0), dev(c));
        return c;
    }

    /** dst (C, images·P) = src[n0 .. n0 + images) (N, C, P) channel-major, in the given scratch. */
    private CUdeviceptr channelMajor(Tensor src, int n0, int images, int channels, int p, DeviceScratch into) {
        CUdeviceptr t = into.get((long) channels * images * p * Float.BYTES);
        ctx.launchPlanes(CudaKernel.NCHW_TO_CNHW, (long) channels * images, p, ptr(src), i(n0), i(images),
                i(channels), i(p), dev(t));
        return t;
    }

    void forward(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec s) {
        Dims d = dims(x, w, y, s, "conv2d");
        if (bias != null) CudaChecks.shape(bias, "conv2d", "bias", s.outChannels());
        int out = s.outChannels(), p = d.p();
        if (s.isPointwise()) {
            // Y_n (out x P) = W (out x C) · X_n (C x P), all images in one batched GEMM.
            blas.gemmBatched(false, false, out, p, s.inChannels(), 1f, at(w, 0), s.inChannels(), 0,
                    at(x, 0), p, (long) s.inChannels() * p, 0f, at(y, 0), p, (long) out * p, d.n());
        } else {
            int chunk = chunkImages(d, s);
            for (int n0 = 0; n0 < d.n(); n0 += chunk) {
                int nb = Math.min(chunk, d.n() - n0);
                CUdeviceptr c = im2col(x, s, d, n0, nb, true);
                for (int g = 0; g < s.groups(); g++) {
                    // Y_n,g (coutG x P) = W_g (coutG x K) · col_n,g (K x P)
                    blas.gemmBatched(false, false, d.coutG(), p, d.k(), 1f, at(w, (long) g * d.coutG() * d.k()),
                            d.k(), 0, c.withByteOffset((long) g * d.k() * p * Float.BYTES), p, d.colPerImage(s),
                            0f, at(y, ((long) n0 * out + (long) g * d.coutG()) * p), p, (long) out * p, nb);
                }
            }
        }
        if (bias != null) {
            ctx.launch1d(CudaKernel.CHANNEL_BIAS, y.size(), ptr(y), ptr(bias), i(out), i(p), l(y.size()));
        }
    }

    void backward(Tensor x, Tensor w, Tensor dy, Tensor dx, Tensor dw, Tensor db, ConvSpec s) {
        Dims d = dims(x, w, dy, s, "conv2dBackward");
        if (dx != null) CudaChecks.shape(dx, x.shape(), "conv2dBackward", "dx");
        if (dw != null) CudaChecks.shape(dw, w.shape(), "conv2dBackward", "dw");
        if (db != null) CudaChecks.shape(db, "conv2dBackward", "db", s.outChannels());
        int out = s.outChannels(), p = d.p();
        if (db != null) {
            CudaChecks.require((long) d.n() * p < Integer.MAX_VALUE, "conv2dBackward",
                    "N·H·W of dy must be below 2^31 for the bias gradient");
            ctx.launch(CudaKernel.CHANNEL_SUM, out, CudaKernel.REDUCE_THREADS, ptr(dy), i(d.n()), i(out), i(p),
                    ptr(db));
        }
        if (s.isPointwise()) {
            int c = s.inChannels();
            if (dw != null && batchedWeightGrad) {
                pointwiseWeightGradBatched(x, dy, dw, s, d);
            }
            for (int n = 0; dw != null && !batchedWeightGrad && n < d.n(); n++) {
                // dW (out x C) += dY_n (out x P) · X_nᵀ (P x C)
                blas.gemm(false, true, out, c, p, 1f, at(dy, (long) n * out * p), p, at(x, (long) n * c * p), p,
                        1f, at(dw, 0), c);
            }
            if (dx != null) {
                // dX_n (C x P) += Wᵀ (C x out) · dY_n (out x P)
                blas.gemmBatched(true, false, c, p, out, 1f, at(w, 0), c, 0, at(dy, 0), p, (long) out * p, 1f,
                        at(dx, 0), p, (long) c * p, d.n());
            }
            return;
        }
        if (dw == null && dx == null) return;
        int chunk = chunkImages(d, s);
        for (int n0 = 0; n0 < d.n(); n0 += chunk) {
            int nb = Math.min(chunk, d.n() - n0);
            if (dw != null && batchedWeightGrad) weightGradChunkBatched(x, dy, dw, s, d, n0, nb);
            if (dw != null && !batchedWeightGrad) weightGradChunk(x, dy, dw, s, d, n0, nb);
            if (dx != null) inputGradChunk(w, dy, dx, s, d, n0, nb);
        }
    }

    /** dW_g (coutG x K) += dY_n,g (coutG x P) · col_n,gᵀ (P x K) for every image of the chunk. */
    private void weightGradChunk(Tensor x, Tensor dy, Tensor dw, ConvSpec s, Dims d, int n0, int nb) {
        CUdeviceptr c = im2col(x, s, d, n0, nb, true);
        int out = s.outChannels(), p = d.p();
        for (int img = 0; img < nb; img++) {
            for (int g = 0; g < s.groups(); g++) {
                long colOff = img * d.colPerImage(s) + (long) g * d.k() * p;
                blas.gemm(false, true, d.coutG(), d.k(), p, 1f,
                        at(dy, ((long) (n0 + img) * out + (long) g * d.coutG()) * p), p,
                        c.withByteOffset(colOff * Float.BYTES), p, 1f, at(dw, (long) g * d.coutG() * d.k()), d.k());
            }
        }
    }

    /** dW_g (coutG x K) += dyT_g (coutG x nb·P) · colT_gᵀ (nb·P x K): one GEMM per group for the whole chunk. */
    private void weightGradChunkBatched(Tensor x, Tensor dy, Tensor dw, ConvSpec s, Dims d, int n0, int nb) {
        CUdeviceptr c = im2col(x, s, d, n0, nb, false);
        int out = s.outChannels();
        long np = (long) nb * d.p();
        CUdeviceptr dyT = channelMajor(dy, n0, nb, out, d.p(), transposed);
        for (int g = 0; g < s.groups(); g++) {
            blas.gemm(false, true, d.coutG(), d.k(), (int) np, 1f,
                    dyT.withByteOffset((long) g * d.coutG() * np * Float.BYTES), (int) np,
                    c.withByteOffset((long) g * d.k() * np * Float.BYTES), (int) np, 1f,
                    at(dw, (long) g * d.coutG() * d.k()), d.k());
        }
    }

    /** 1x1: dW (out x C) += dyT (out x nb·P) · xTᵀ (nb·P x C) per chunk, x and dy made channel-major. */
    private void pointwiseWeightGradBatched(Tensor x, Tensor dy, Tensor dw, ConvSpec s, Dims d) {
        int out = s.outChannels(), c = s.inChannels();
        long perImage = (long) Math.max(out, c) * d.p();
        int chunk = (int) Math.max(1, Math.min(d.n(), colLimitFloats / Math.max(1, perImage)));
        for (int n0 = 0; n0 < d.n(); n0 += chunk) {
            int nb = Math.min(chunk, d.n() - n0);
            int np = nb * d.p();
            CUdeviceptr dyT = channelMajor(dy, n0, nb, out, d.p(), transposed);
            CUdeviceptr xT = channelMajor(x, n0, nb, c, d.p(), col);
            blas.gemm(false, true, out, c, np, 1f, dyT, np, xT, np, 1f, at(dw, 0), c);
        }
    }

    /** dcol_n,g (K x P) = W_gᵀ (K x coutG) · dY_n,g (coutG x P), batched over the chunk; then dx += col2im(dcol). */
    private void inputGradChunk(Tensor w, Tensor dy, Tensor dx, ConvSpec s, Dims d, int n0, int nb) {
        CUdeviceptr c = col.get(d.colPerImage(s) * nb * Float.BYTES);
        int out = s.outChannels(), p = d.p();
        for (int g = 0; g < s.groups(); g++) {
            blas.gemmBatched(true, false, d.k(), p, d.coutG(), 1f, at(w, (long) g * d.coutG() * d.k()), d.k(), 0,
                    at(dy, ((long) n0 * out + (long) g * d.coutG()) * p), p, (long) out * p, 0f,
                    c.withByteOffset((long) g * d.k() * p * Float.BYTES), p, d.colPerImage(s), nb);
        }
        ctx.launchPlanes(CudaKernel.COL2IM, (long) nb * s.inChannels(), d.h() * d.w(), dev(c),
                geometry(s, d.h(), d.w()), i(n0), i(nb), ptr(dx));
    }

    /** The Backend's single-image im2col: col (C·kh·kw, oh·ow) of image {@code image}. */
    void im2colImage(Tensor x, int image, ConvSpec s, Tensor colOut) {
        int[] g = checkCol(x, image, s, colOut, "im2col");
        ctx.launchPlanes(CudaKernel.IM2COL, (long) s.inChannels() * s.kh() * s.kw(), s.outH(g[0]) * s.outW(g[1]),
                ptr(x), geometry(s, g[0], g[1]), i(image), i(1), i(1), ptr(colOut));
    }

    /** The Backend's single-image col2im: dx[image] += fold(col). */
    void col2imImage(Tensor colIn, ConvSpec s, Tensor dx, int image) {
        int[] g = checkCol(dx, image, s, colIn, "col2im");
        ctx.launchPlanes(CudaKernel.COL2IM, s.inChannels(), g[0] * g[1], ptr(colIn), geometry(s, g[0], g[1]),
                i(image), i(1), ptr(dx));
    }

    private static int[] checkCol(Tensor x, int image, ConvSpec s, Tensor c, String op) {
        CudaChecks.rank4(x, op, "image tensor");
        CudaChecks.require(image >= 0 && image < x.shape().n(), op, "image " + image + " outside " + x.shape());
        CudaChecks.require(x.shape().c() == s.inChannels(), op, x.shape() + " does not match " + s);
        int h = x.shape().h(), w = x.shape().w();
        long need = (long) s.inChannels() * s.kh() * s.kw() * s.outH(h) * s.outW(w);
        CudaChecks.require(s.outH(h) > 0 && s.outW(w) > 0 && c.size() == need, op,
                "col " + c.shape() + " must hold " + need + " elements");
        return new int[] {h, w};
    }

    void close() {
        col.release();
        transposed.release();
    }
}
