// Convolution family: im2col / col2im over a range of images, per-channel bias add and bias gradient.
// Java reference: ReferenceConv.im2col / col2im / conv2d / conv2dBackward (via ReferenceKernels).
// The GEMMs of conv2d (W · col per image and group) run in cuBLAS (CudaConv.java); these kernels are the glue.
//
// Launch shapes (THREADS = 256 per block, grid-stride, grid capped on the Java side):
//   im2col_batch  : one thread per col element, images × C·kh·kw × oh·ow; image-major layout col[img][row][p],
//                   or (imageMajor = 0) row-major over the whole chunk, col[row][img·P + p], for weight gradients.
//   nchw_to_cnhw  : one thread per element; dst[c][img·P + p] = src[n0 + img][c][p] (dy or a 1x1 conv's x
//                   laid out so one GEMM with k = images·P sums the weight gradient over the chunk).
//   col2im_batch  : one thread per input element (images × C × H × W), gathering its taps: no atomics, so the
//                   sum order is fixed and runs are bit-for-bit repeatable.
//   channel_bias  : one thread per y element; y (N, C, HW) += b[c]. With HW = 1 it is linear's row bias.
//   channel_sum   : one block per channel, db[c] += Σ_{n,hw} dy (double accumulation); HW = 1 gives linear's db.
//
// Napkin math (GoogLeNet inception 3x3 branch, 96→128 ch at 28x28, batch 32): col = 32·864·784 floats = 87 MB
// written + ≤ 9× re-reads of x (L2-resident); at ~3 TB/s ≈ 30 µs, vs the GEMM's 2·128·864·784·32 = 5.5 GFLOP
// ≈ 0.1 ms FP32 (67 TFLOP/s peak): im2col costs about a quarter of the GEMM, the price of not writing an
// implicit-GEMM kernel yet. channel_bias reads+writes 4 B each per element: bandwidth-bound, ≈ 2.7 µs per 4 MB.
#include "common.cuh"

// col[img][(c*kh + i)*kw + j][oy*ow + ox] = x[n0 + img][c][oy*sh - ph + i*dh][ox*sw - pw + j*dw], 0 in the padding;
// with imageMajor = 0 the same value goes to col[(c*kh + i)*kw + j][img*oh*ow + oy*ow + ox].
extern "C" __global__ void im2col_batch(const float* __restrict__ x, ConvGeom g, int n0, int images,
                                        int imageMajor, float* __restrict__ col) {
    long long ohw = (long long)g.oh * g.ow, rows = (long long)g.C * g.kh * g.kw;
    GRID_STRIDE(idx, images * rows * ohw) {
        long long p = idx % ohw, row = (idx / ohw) % rows, img = idx / (ohw * rows);
        int oy = (int)(p / g.ow), ox = (int)(p % g.ow);
        int j = (int)(row % g.kw), i = (int)((row / g.kw) % g.kh), c = (int)(row / ((long long)g.kw * g.kh));
        int iy = oy * g.sh - g.ph + i * g.dh, ix = ox * g.sw - g.pw + j * g.dw;
        float v = 0.f;
        if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) {
            v = x[(((long long)(n0 + img) * g.C + c) * g.H + iy) * g.W + ix];
        }
        col[imageMajor ? idx : (row * images + img) * ohw + p] = v;
    }
}

// dst[c][img*P + p] = src[n0 + img][c][p] for img < images, c < C, p < P.
extern "C" __global__ void nchw_to_cnhw(const float* __restrict__ src, int n0, int images, int C, int P,
                                        float* __restrict__ dst) {
    GRID_STRIDE(idx, (long long)images * C * P) {
        long long p = idx % P, img = (idx / P) % images, c = idx / ((long long)P * images);
        dst[idx] = src[((n0 + img) * C + c) * P + p];
    }
}

// dx[n0 + img][c][iy][ix] += Σ over the taps (i, j) and outputs (oy, ox) that read it of col[img][row][oy*ow + ox].
extern "C" __global__ void col2im_batch(const float* __restrict__ col, ConvGeom g, int n0, int images,
                                        float* __restrict__ dx) {
    long long hw = (long long)g.H * g.W, ohw = (long long)g.oh * g.ow, rows = (long long)g.C * g.kh * g.kw;
    GRID_STRIDE(idx, images * g.C * hw) {
        int ix = (int)(idx % g.W), iy = (int)((idx / g.W) % g.H);
        long long c = (idx / hw) % g.C, img = idx / (hw * g.C);
        const float* colImg = col + img * rows * ohw;
        float sum = 0.f;
        for (int i = 0; i < g.kh; i++) {
            int ty = iy + g.ph - i * g.dh;
            if (ty < 0 || ty % g.sh != 0) continue;
            int oy = ty / g.sh;
            if (oy >= g.oh) continue;
            for (int j = 0; j < g.kw; j++) {
                int tx = ix + g.pw - j * g.dw;
                if (tx < 0 || tx % g.sw != 0) continue;
                int ox = tx / g.sw;
                if (ox >= g.ow) continue;
                long long row = (c * g.kh + i) * g.kw + j;
                sum += colImg[row * ohw + (long long)oy * g.ow + ox];
            }
        }
        dx[(long long)n0 * g.C * hw + idx] += sum;
    }
}

// y (N, C, HW) += b[c].
extern "C" __global__ void channel_bias(float* __restrict__ y, const float* __restrict__ b, int C, int HW,
                                        long long n) {
    GRID_STRIDE(i, n) {
        y[i] += b[(i / HW) % C];
    }
}

// db[c] += Σ_{n, hw} dy[n][c][hw]; grid = C blocks of THREADS.
extern "C" __global__ void channel_sum(const float* __restrict__ dy, int N, int C, int HW,
                                       float* __restrict__ db) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    long long count = (long long)N * HW;
    double s = 0.0;
    for (long long k = threadIdx.x; k < count; k += blockDim.x) {
        s += dy[((k / HW) * C + c) * HW + k % HW];
    }
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) db[c] += (float)s;
}
