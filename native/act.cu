// Activations: ReLU, clip (ReLU6 = clip(0, 6)), their gradients, and the fused bias + ReLU epilogue.
// Java reference: ReferenceKernels.relu / reluBackward / clip / clipBackward (bias_relu = channel_bias then relu).
//
// Launch shape: one thread per element, THREADS = 256 per block, grid-stride (grid capped on the Java side).
// Napkin math: relu reads 4 B and writes 4 B per element, 0 FLOPs worth counting: bandwidth-bound; on an H100
// (~3 TB/s) a 32x256x28x28 activation (25.7 MB in + out) takes ≈ 17 µs, launch overhead (~4 µs) dominates
// below ≈ 1 MB. The bias_relu epilogue saves one full read+write of y versus channel_bias followed by relu.
//
// NaN rules follow Java's Math.max/min, which ReferenceKernels uses: relu(NaN) = NaN, clip(NaN) = NaN, hence the
// comparisons below instead of fmaxf / fminf (which return the non-NaN operand).
#include "common.cuh"

extern "C" __global__ void relu_fwd(const float* __restrict__ x, float* __restrict__ y, long long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        y[i] = v < 0.f ? 0.f : v;
    }
}

// dx += dy where y > 0 (accumulate != 0); dx = dy where y > 0, else 0 (accumulate == 0: dx need not be zeroed; 0 + dy
// as the adding form on a zeroed dx gives, −0 included).
extern "C" __global__ void relu_bwd(const float* __restrict__ y, const float* __restrict__ dy,
                                    float* __restrict__ dx, long long n, int accumulate) {
    if (accumulate) {
        GRID_STRIDE(i, n) {
            if (y[i] > 0.f) dx[i] += dy[i];
        }
    } else {
        GRID_STRIDE(i, n) {
            dx[i] = y[i] > 0.f ? 0.f + dy[i] : 0.f;
        }
    }
}

extern "C" __global__ void clip_fwd(const float* __restrict__ x, float lo, float hi, float* __restrict__ y,
                                    long long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        y[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

// dx += dy where lo < x < hi.
extern "C" __global__ void clip_bwd(const float* __restrict__ x, float lo, float hi, const float* __restrict__ dy,
                                    float* __restrict__ dx, long long n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        if (v > lo && v < hi) dx[i] += dy[i];
    }
}

// Fused epilogue of CudaBackend.conv2dRelu (the serving plan's conv + folded-BN bias + ReLU):
// y (N, C, HW) = relu(y + b[c]).
extern "C" __global__ void bias_relu(float* __restrict__ y, const float* __restrict__ b, int C, int HW,
                                     long long n) {
    for_each_index(n, [&](auto i) { // 32-bit div/mod per element when n < 2³¹ (common.cuh)
        float v = y[i] + b[(i / HW) % C];
        y[i] = v < 0.f ? 0.f : v;
    });
}
