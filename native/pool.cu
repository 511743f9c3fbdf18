// Pooling: max, average (PyTorch's ceil_mode and count_include_pad rules), global average; forward and backward.
// Java reference: ReferencePool.maxPool / maxPoolBackward / avgPool / avgPoolBackward / globalAvgPool /
// globalAvgPoolBackward (via ReferenceKernels).
//
// Launch shapes (THREADS = 256, grid-stride):
//   max_pool_fwd, avg_pool_fwd : one thread per output element, scanning its window (kh·kw reads).
//   max_pool_bwd, avg_pool_bwd : one thread per INPUT element, gathering from the ≤ ceil(k/s)² outputs whose
//                                window holds it (max: re-running the window's argmax, so no index tensor and
//                                no atomics: deterministic sums).
//   gap_fwd                    : one warp per (n, c) plane; gap_bwd: one thread per input element.
// Napkin math (GoogLeNet maxpool 3x3 s2 on 32x192x56x56, 77 MB in, 19 MB out): forward ≈ 96 MB ≈ 32 µs at
// 3 TB/s (window re-reads hit L1/L2); backward recomputes ≤ 4 windows of 9 per input: ≈ 36 reads, L1-resident.
#include "common.cuh"

// Index within the H x W plane of the element max pooling picks for (oy, ox): row-major scan of the clipped
// window, a later element wins only if strictly greater or NaN (PyTorch's rule; ties go to the first maximum).
__device__ __forceinline__ int pool_argmax(const float* plane, const PoolGeom& g, int oy, int ox) {
    int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    int y1 = min(y0 + g.kh, g.H), x1 = min(x0 + g.kw, g.W);
    y0 = max(y0, 0);
    x0 = max(x0, 0);
    int best = y0 * g.W + x0;
    float m = -__int_as_float(0x7f800000);
    for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
            float v = plane[iy * g.W + ix];
            if (v > m || v != v) {
                m = v;
                best = iy * g.W + ix;
            }
        }
    }
    return best;
}

// The clipped average window of (oy, ox) and its divisor, exactly as ReferencePool.avgWindow.
struct AvgWindow {
    int y0, y1, x0, x1, divisor;
};

__device__ __forceinline__ AvgWindow avg_window(const PoolGeom& g, int oy, int ox) {
    AvgWindow w;
    w.y0 = oy * g.sh - g.ph;
    w.x0 = ox * g.sw - g.pw;
    w.y1 = min(w.y0 + g.kh, g.H + g.ph);
    w.x1 = min(w.x0 + g.kw, g.W + g.pw);
    int poolSize = (w.y1 - w.y0) * (w.x1 - w.x0);
    w.y0 = max(w.y0, 0);
    w.x0 = max(w.x0, 0);
    w.y1 = min(w.y1, g.H);
    w.x1 = min(w.x1, g.W);
    w.divisor = g.countIncludePad ? poolSize : (w.y1 - w.y0) * (w.x1 - w.x0);
    return w;
}

// Outputs whose raw window [o*s - p, o*s - p + k) contains input coordinate v: [lo, hi].
__device__ __forceinline__ void covering(int v, int k, int s, int p, int outSize, int& lo, int& hi) {
    int t = v + p - k + 1;
    lo = t <= 0 ? 0 : (t + s - 1) / s;
    hi = min((v + p) / s, outSize - 1);
}

extern "C" __global__ void max_pool_fwd(const float* __restrict__ x, PoolGeom g, float* __restrict__ y,
                                        long long n) {
    const int ohw = g.oh * g.ow; // one output plane is < 2³¹ elements (a plane's n fits an int on the Java side)
    for_each_index(n, [&](auto i) { // 32-bit index arithmetic when n < 2³¹ (common.cuh)
        auto p = i / ohw, q = i - p * ohw;
        int oy = (int)(q / g.ow), ox = (int)(q - (decltype(q))oy * g.ow);
        const float* plane = x + (long long)p * g.H * g.W;
        y[i] = plane[pool_argmax(plane, g, oy, ox)];
    });
}

// dx[argmax of each window] += dy; n = number of input elements.
extern "C" __global__ void max_pool_bwd(const float* __restrict__ x, const float* __restrict__ dy, PoolGeom g,
                                        float* __restrict__ dx, long long n) {
    long long hw = (long long)g.H * g.W;
    GRID_STRIDE(i, n) {
        // 32-bit splits when n < 2³¹ (a 64-bit div/mod per element costs more than the window scans' reads)
        long long p;
        int at;
        if (n < 0x7fffffffLL) {
            unsigned q = (unsigned)i, uhw = (unsigned)hw;
            p = q / uhw;
            at = (int)(q - (unsigned)p * uhw);
        } else {
            p = i / hw;
            at = (int)(i % hw);
        }
        int iy = at / g.W, ix = at % g.W;
        const float* plane = x + p * hw;
        const float* dyPlane = dy + p * g.oh * g.ow;
        int oy0, oy1, ox0, ox1;
        covering(iy, g.kh, g.sh, g.ph, g.oh, oy0, oy1);
        covering(ix, g.kw, g.sw, g.pw, g.ow, ox0, ox1);
        float sum = 0.f;
        for (int oy = oy0; oy <= oy1; oy++) {
            for (int ox = ox0; ox <= ox1; ox++) {
                if (pool_argmax(plane, g, oy, ox) == at) sum += dyPlane[oy * g.ow + ox];
            }
        }
        dx[i] += sum;
    }
}

extern "C" __global__ void avg_pool_fwd(const float* __restrict__ x, PoolGeom g, float* __restrict__ y,
                                        long long n) {
    long long ohw = (long long)g.oh * g.ow;
    GRID_STRIDE(i, n) {
        long long p = i / ohw;
        int oy = (int)((i % ohw) / g.ow), ox = (int)(i % g.ow);
        const float* plane = x + p * g.H * g.W;
        AvgWindow w = avg_window(g, oy, ox);
        double sum = 0.0;
        for (int iy = w.y0; iy < w.y1; iy++) {
            for (int ix = w.x0; ix < w.x1; ix++) sum += plane[iy * g.W + ix];
        }
        bool empty = w.y0 >= w.y1 || w.x0 >= w.x1;
        y[i] = empty ? 0.f : (float)(sum / w.divisor);
    }
}

// dx += dy / divisor over each window's clipped elements; n = number of input elements.
extern "C" __global__ void avg_pool_bwd(const float* __restrict__ dy, PoolGeom g, float* __restrict__ dx,
                                        long long n) {
    long long hw = (long long)g.H * g.W;
    GRID_STRIDE(i, n) {
        long long p = i / hw;
        int at = (int)(i % hw), iy = at / g.W, ix = at % g.W;
        const float* dyPlane = dy + p * g.oh * g.ow;
        int oy0, oy1, ox0, ox1;
        covering(iy, g.kh, g.sh, g.ph, g.oh, oy0, oy1);
        covering(ix, g.kw, g.sw, g.pw, g.ow, ox0, ox1);
        double sum = 0.0;
        for (int oy = oy0; oy <= oy1; oy++) {
            for (int ox = ox0; ox <= ox1; ox++) {
                AvgWindow w = avg_window(g, oy, ox);
                if (iy >= w.y0 && iy < w.y1 && ix >= w.x0 && ix < w.x1) {
                    sum += (double)dyPlane[oy * g.ow + ox] / w.divisor;
                }
            }
        }
        dx[i] += (float)sum;
    }
}

// y[p] = mean of plane p (HW elements); one warp per plane, THREADS / 32 planes per block.
extern "C" __global__ void gap_fwd(const float* __restrict__ x, float* __restrict__ y, int HW, long long planes) {
    int lane = threadIdx.x & 31;
    long long warpsTotal = (long long)gridDim.x * (blockDim.x >> 5);
    for (long long p = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); p < planes;
         p += warpsTotal) {
        const float* plane = x + p * HW;
        double s = 0.0;
        for (int i = lane; i < HW; i += 32) s += plane[i];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
        if (lane == 0) y[p] = (float)(s / HW);
    }
}

// dx[i] += dy[i / HW] / HW; n = number of input elements.
extern "C" __global__ void gap_bwd(const float* __restrict__ dy, float* __restrict__ dx, int HW, long long n) {
    GRID_STRIDE(i, n) {
        dx[i] += dy[i / HW] / (float)HW;
    }
}
