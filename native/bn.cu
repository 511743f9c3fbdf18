// BatchNorm2d: training forward (batch statistics + running-statistics update), eval forward, training backward.
// Java reference: ReferenceBatchNorm.train / eval / backward (via ReferenceKernels.batchNorm*).
//
// Launch shapes:
//   bn_train, bn_backward : one block of REDUCE_THREADS (1,024) per channel; the block makes its passes over the
//                           channel's N·HW elements (two-pass mean/variance in double as the reference does, then
//                           y; or the two gradient sums, then dx). Channel-parallel only, so the blocks are large:
//                           at C ≈ 200 on 132 SMs blocks of 256 left each SM ~1.5 blocks = 384 threads to hide
//                           memory latency. Element k of the channel is (k / HW, k % HW) in 32-bit arithmetic
//                           (N·HW < 2³¹ is checked on the Java side): 64-bit div/mod per element made the passes
//                           integer-bound.
//   bn_eval               : one thread per element, grid-stride.
// Napkin math (training, 32x192x56x56 = 19.3 M elements = 77 MB): bn_train reads x three times and writes y once
// ≈ 310 MB ≈ 0.1 ms at 3 TB/s (two of the reads mostly from L2 when a channel fits: 401 KB per channel);
// bn_backward reads x and dy twice, writes dx once ≈ 390 MB ≈ 0.13 ms. bn_eval: 8 B per element.
#include "common.cuh"

__device__ __forceinline__ long long bn_index(unsigned k, int C, unsigned HW, int c) {
    unsigned img = k / HW;
    return ((long long)img * C + c) * HW + (k - img * HW);
}

extern "C" __global__ void bn_train(const float* __restrict__ x, const float* __restrict__ gamma,
                                    const float* __restrict__ beta, float* __restrict__ runMean,
                                    float* __restrict__ runVar, float momentum, float eps, float* __restrict__ y,
                                    float* __restrict__ saveMean, float* __restrict__ saveInvStd,
                                    int N, int C, int HW) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    const unsigned n = (unsigned)N * (unsigned)HW, hw = (unsigned)HW;
    double s = 0.0;
    for (unsigned k = threadIdx.x; k < n; k += blockDim.x) s += x[bn_index(k, C, hw, c)];
    double mean = block_sum(s, scratch) / n;
    double sq = 0.0;
    for (unsigned k = threadIdx.x; k < n; k += blockDim.x) {
        double dev = x[bn_index(k, C, hw, c)] - mean;
        sq += dev * dev;
    }
    double var = block_sum(sq, scratch) / n; // biased: used to normalise
    double invStd = 1.0 / sqrt(var + (double)eps);
    double scale = gamma[c] * invStd, shift = beta[c] - mean * scale;
    for (unsigned k = threadIdx.x; k < n; k += blockDim.x) {
        long long at = bn_index(k, C, hw, c);
        y[at] = (float)(x[at] * scale + shift);
    }
    if (threadIdx.x == 0) {
        saveMean[c] = (float)mean;
        saveInvStd[c] = (float)invStd;
        // PyTorch: the unbiased variance n/(n-1)·var feeds the running variance.
        runMean[c] = (float)((1.0 - momentum) * runMean[c] + momentum * mean);
        runVar[c] = (float)((1.0 - momentum) * runVar[c] + momentum * var * n / (n - 1));
    }
}

// y = (x - mean)·gamma/sqrt(var + eps) + beta, in float (the reference's double differs by ≤ a few ulp).
extern "C" __global__ void bn_eval(const float* __restrict__ x, const float* __restrict__ gamma,
                                   const float* __restrict__ beta, const float* __restrict__ mean,
                                   const float* __restrict__ var, float eps, float* __restrict__ y,
                                   int C, int HW, long long n) {
    for_each_index(n, [&](auto i) { // 32-bit div/mod per element when n < 2³¹ (common.cuh)
        int c = (int)((i / HW) % C);
        float scale = gamma[c] / sqrtf(var[c] + eps);
        y[i] = (x[i] - mean[c]) * scale + beta[c];
    });
}

// dbeta += Σ dy, dgamma += Σ dy·x̂, dx += γ·invStd/n·(n·dy − Σ dy − x̂·Σ dy·x̂); dx, dgamma, dbeta may be null.
extern "C" __global__ void bn_backward(const float* __restrict__ x, const float* __restrict__ dy,
                                       const float* __restrict__ gamma, const float* __restrict__ saveMean,
                                       const float* __restrict__ saveInvStd, float* __restrict__ dx,
                                       float* __restrict__ dgamma, float* __restrict__ dbeta,
                                       int N, int C, int HW, int accumulate) {
    __shared__ double scratch[32];
    int c = blockIdx.x;
    const unsigned n = (unsigned)N * (unsigned)HW, hw = (unsigned)HW;
    double mean = saveMean[c], invStd = saveInvStd[c];
    double sumDy = 0.0, sumDyXhat = 0.0;
    for (unsigned k = threadIdx.x; k < n; k += blockDim.x) {
        long long at = bn_index(k, C, hw, c);
        double g = dy[at];
        sumDy += g;
        sumDyXhat += g * (x[at] - mean) * invStd;
    }
    sumDy = block_sum(sumDy, scratch);
    sumDyXhat = block_sum(sumDyXhat, scratch);
    if (threadIdx.x == 0) {
        if (dbeta != nullptr) dbeta[c] += (float)sumDy;
        if (dgamma != nullptr) dgamma[c] += (float)sumDyXhat;
    }
    if (dx == nullptr) return;
    double k0 = gamma[c] * invStd / n;
    for (unsigned k = threadIdx.x; k < n; k += blockDim.x) {
        long long at = bn_index(k, C, hw, c);
        double xhat = (x[at] - mean) * invStd;
        float v = (float)(k0 * (n * (double)dy[at] - sumDy - xhat * sumDyXhat));
        dx[at] = (accumulate ? dx[at] : 0.f) + v; // dx need not be zeroed when not accumulating
    }
}
