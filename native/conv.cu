// Convolution family: im2col / col2im over a range of images, per-channel bias add and bias gradient.
// Java reference: ReferenceConv.im2col / col2im / conv2d / conv2dBackward (via ReferenceKernels).
// The GEMMs of conv2d (W · col per image and group) run in cuBLAS (CudaConv.java); these kernels are the glue.
//
// Launch shapes (THREADS = 256 per block, grid-stride, grid capped on the Java side):
//   im2col_batch  : plane launch (common.cuh), one plane per (image, C·kh·kw row), one thread per oh·ow element;
//                   image-major layout col[img][row][p], or (imageMajor = 0) row-major over the whole chunk,
//                   col[row][img·P + p], for weight gradients.
//   nchw_to_cnhw  : plane launch, one plane per (c, image); dst[c][img·P + p] = src[n0 + img][c][p] (dy or a 1x1
//                   conv's x laid out so one GEMM with k = images·P sums the weight gradient over the chunk).
//   col2im_batch  : plane launch, one plane per (image, c), one thread per input element gathering its taps: no
//                   atomics, so the sum order is fixed and runs are bit-for-bit repeatable.
//   channel_bias  : one thread per y element; y (N, C, HW) += b[c]. With HW = 1 it is linear's row bias.
//   channel_sum   : one block of 1,024 per channel, db[c] += Σ_{n,hw} dy (double accumulation); HW = 1 gives
//                   linear's db.
//
// Napkin math (GoogLeNet inception 3x3 branch, 96→128 ch at 28x28, batch 32): col = 32·864·784 floats = 87 MB
// written + ≤ 9× re-reads of x (L2-resident); at ~3 TB/s ≈ 30 µs, vs the GEMM's 2·128·864·784·32 = 5.5 GFLOP
// ≈ 0.1 ms FP32 (67 TFLOP/s peak): im2col costs about a quarter of the GEMM, the price of not writing an
// implicit-GEMM kernel yet. channel_bias reads+writes 4 B each per element: bandwidth-bound, ≈ 2.7 µs per 4 MB.
#include "common.cuh"

// col[img][(c*kh + i)*kw + j][oy*ow + ox] = x[n0 + img][c][oy*sh - ph + i*dh][ox*sw - pw + j*dw], 0 in the padding;
// with imageMajor = 0 the same value goes to col[(c*kh + i)*kw + j][img*oh*ow + oy*ow + ox].
// Plane launch: one plane per (img, row) = images·C·kh·kw planes of oh·ow elements.
extern "C" __global__ void im2col_batch(const float* __restrict__ x, ConvGeom g, int n0, int images,
                                        int imageMajor, float* __restrict__ col) {
    const int ohw = g.oh * g.ow, rows = g.C * g.kh * g.kw;
    PLANE_STRIDE(pl, (long long)images * rows) {
        const int row = (int)(pl % rows), img = (int)(pl / rows);
        const int j = row % g.kw, i = (row / g.kw) % g.kh, c = row / (g.kw * g.kh);
        const float* plane = x + ((long long)(n0 + img) * g.C + c) * g.H * g.W;
        float* dst = col + (imageMajor ? pl : (long long)row * images + img) * ohw;
        const int dy = i * g.dh - g.ph, dx = j * g.dw - g.pw;
        IN_PLANE(p, ohw) {
            const int oy = p / g.ow, ox = p - oy * g.ow;
            const int iy = oy * g.sh + dy, ix = ox * g.sw + dx;
            dst[p] = (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) ? plane[iy * g.W + ix] : 0.f;
        }
    }
}

// dst[c][img*P + p] = src[n0 + img][c][p] for img < images, c < C, p < P. Plane launch: C·images planes of P.
extern "C" __global__ void nchw_to_cnhw(const float* __restrict__ src, int n0, int images, int C, int P,
                                        float* __restrict__ dst) {
    PLANE_STRIDE(pl, (long long)C * images) {
        const int img = (int)(pl % images), c = (int)(pl / images);
        const float* from = src + ((long long)(n0 + img) * C + c) * P;
        float* to = dst + pl * P;
        IN_PLANE(p, P) to[p] = from[p];
    }
}

// dx[n0 + img][c][iy][ix] += Σ over the taps (i, j) and outputs (oy, ox) that read it of col[img][row][oy*ow + ox].
// Plane launch: images·C planes of H·W input elements.
extern "C" __global__ void col2im_batch(const float* __restrict__ col, ConvGeom g, int n0, int images,
                                        float* __restrict__ dx) {
    const long long ohw = (long long)g.oh * g.ow, rows = (long long)g.C * g.kh * g.kw;
    const int hw = g.H * g.W;
    PLANE_STRIDE(pl, (long long)images * g.C) {
        const int c = (int)(pl % g.C), img = (int)(pl / g.C);
        const float* colC = col + ((long long)img * rows + (long long)c * g.kh * g.kw) * ohw;
        float* out = dx + ((long long)n0 * g.C + pl) * hw;
        IN_PLANE(p, hw) {
            const int iy = p / g.W, ix = p - iy * g.W;
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
                    sum += colC[(long long)(i * g.kw + j) * ohw + oy * g.ow + ox];
                }
            }
            out[p] += sum;
        }
    }
}

// y (N, C, HW) += b[c]; 32-bit index arithmetic when n < 2³¹ (for_each_index in common.cuh).
extern "C" __global__ void channel_bias(float* __restrict__ y, const float* __restrict__ b, int C, int HW,
                                        long long n) {
    for_each_index(n, [&](auto i) { y[i] += b[(i / HW) % C]; });
}

// db[c] += Σ_{n, hw} dy[n][c][hw]; grid = C blocks of REDUCE_THREADS; 32-bit element arithmetic (N·HW < 2³¹,
// checked on the Java side), as bn_train.
extern "C" __global__ void channel_sum(const float* __restrict__ dy, int N, int C, int HW,
                                       float* __restrict__ db) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    const unsigned count = (unsigned)N * (unsigned)HW, hw = (unsigned)HW;
    double s = 0.0;
    for (unsigned k = threadIdx.x; k < count; k += blockDim.x) {
        unsigned img = k / hw;
        s += dy[((long long)img * C + c) * HW + (k - img * hw)];
    }
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) db[c] += (float)s;
}
