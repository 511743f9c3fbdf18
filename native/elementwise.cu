// Elementwise ops and data movement: add, axpy, copyChannels (Concat forward/backward), dropout (the counter-based
// hash of ReferenceKernels.dropoutKeep, bit for bit) and its backward. fill and copy need no kernel: they are
// cuMemsetD32Async and cuMemcpyDtoDAsync (CudaBackend.fill / copy).
// Java reference: ReferenceKernels.add / axpy / copyChannels / dropout / dropoutKeep / dropoutBackward.
//
// Launch shape: one thread per element, THREADS = 256, grid-stride.
// Napkin math: add moves 12 B per element, axpy 12 B, copyChannels 8 B (12 B accumulating), dropout 12 B (x in,
// mask and y out) + ~10 integer ops for the hash: all bandwidth-bound, ≈ 3 TB/s on an H100.
//
// NB: FMA contraction would change results bit-wise against the Java reference (dst + alpha·src is two roundings
// in Java); the reference tolerance absorbs one ulp, and we keep nvcc's default (--fmad=true) for speed.
#include "common.cuh"

extern "C" __global__ void add2(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ y,
                                long long n) {
    GRID_STRIDE(i, n) {
        y[i] = a[i] + b[i];
    }
}

// dst += alpha·src.
extern "C" __global__ void axpy(float alpha, const float* __restrict__ src, float* __restrict__ dst, long long n) {
    GRID_STRIDE(i, n) {
        dst[i] += alpha * src[i];
    }
}

// For every image: dst[n, dstC0 + c] (+)= src[n, srcC0 + c], c < channels; planes of HW elements.
// One thread per element with 32-bit index arithmetic when n < 2³¹ (for_each_index). (A plane launch, one plane
// per (image, channel), measured 28 % slower on the H100 at batch 256: the planes' tails leave threads idle.)
extern "C" __global__ void copy_channels(const float* __restrict__ src, int srcC, int srcC0,
                                         float* __restrict__ dst, int dstC, int dstC0, int channels, int HW,
                                         int accumulate, long long n) {
    for_each_index(n, [&](auto i) {
        auto plane = i / HW, k = i - plane * HW, c = plane % channels, img = plane / channels;
        float v = src[((long long)img * srcC + srcC0 + c) * HW + k];
        long long to = ((long long)img * dstC + dstC0 + c) * HW + k;
        dst[to] = accumulate ? dst[to] + v : v;
    });
}

// ReferenceKernels.dropoutKeep: u = top 24 bits of splitmix64(seed + index·φ) · 2⁻²⁴; keep iff u ≥ p.
__device__ __forceinline__ bool dropout_keep(unsigned long long seed, unsigned long long index, float p) {
    unsigned long long z = seed + index * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    float u = (float)(z >> 40) * 0x1.0p-24f; // exact: a 24-bit integer times a power of two
    return u >= p;
}

// mask[i] = keep ? keepScale : 0 with keepScale = p < 1 ? 1/(1-p) : 0 computed on the host in float; y = x·mask.
extern "C" __global__ void dropout_fwd(const float* __restrict__ x, float p, float keepScale,
                                       unsigned long long seed, float* __restrict__ mask, float* __restrict__ y,
                                       long long n) {
    GRID_STRIDE(i, n) {
        float m = dropout_keep(seed, (unsigned long long)i, p) ? keepScale : 0.f;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

// dx += dy·mask.
extern "C" __global__ void dropout_bwd(const float* __restrict__ dy, const float* __restrict__ mask,
                                       float* __restrict__ dx, long long n) {
    GRID_STRIDE(i, n) {
        dx[i] += dy[i] * mask[i];
    }
}
