// Shared device helpers for the netslim kernels (included by every native/*.cu file).
//
// Conventions: every kernel is extern "C" (unmangled names, looked up by CudaKernels.java); 1-D launches use
// THREADS threads per block and a grid-stride loop, so any grid size is correct and the Java side caps the grid;
// indices are 64-bit (long long) so a grid-stride step can never overflow; sums of many terms are taken in double,
// as ReferenceKernels does, and rounded to float once.
#pragma once

#define THREADS 256
// Block size of the one-block-per-channel reductions (bn_train, bn_backward, channel_sum): CudaKernel.REDUCE_THREADS.
#define REDUCE_THREADS 1024

// for (long long i = first; i < n; i += stride) over a 1-D grid.
#define GRID_STRIDE(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

// for_each_index(n, f): calls f(i) for every i < n of a 1-D grid-stride launch, i unsigned (32-bit) when n < 2³¹
// and long long otherwise. The index kernels whose work per element is a div/mod by the plane or channel count
// (channel_bias, bias_relu, bn_eval, max_pool_fwd, copy_channels) take f as a generic lambda, so the same body
// compiles to 32-bit arithmetic for every activation of the zoo models at batch 256: a 64-bit div/mod per element
// (software-emulated on the GPU) costs more than the memory traffic. In f, an int operand (HW, C, ...) converts to
// the index's type, so `(i / HW) % C` is right in both.
template <typename F>
__device__ __forceinline__ void for_each_index(long long n, F f) {
    if (n < 0x7fffffffLL) {
        const unsigned un = (unsigned)n;
        for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < un; i += blockDim.x * gridDim.x) f(i);
    } else {
        GRID_STRIDE(i, n) f(i);
    }
}

// Plane launches (CudaContext.launchPlanes): a 2-D grid whose y blocks walk the planes (grid-stride, so any plane
// count is correct) and whose x threads walk one plane's elements with 32-bit indices. The 64-bit divisions that
// split a flat index into (plane, element) are then paid once per plane and block, not per element: with one
// thread per element and 64-bit div/mod (software-emulated on the GPU) im2col was integer-bound, not memory-bound.
#define PLANE_STRIDE(pl, planes) \
    for (long long pl = blockIdx.y; pl < (long long)(planes); pl += gridDim.y)
#define IN_PLANE(p, size) \
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < (size); p += blockDim.x * gridDim.x)

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
// scratch: 32 doubles of shared memory. Ends with a barrier so scratch can be reused at once.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    v = scratch[0];
    __syncthreads();
    return v;
}

// Maximum of v over the block, NaN-propagating (fmaxf would drop NaN). Same shape rules as block_sum.
__device__ __forceinline__ float nan_max(float a, float b) {
    return (a > b || a != a) ? a : b;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_down_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < warps ? scratch[lane] : -__int_as_float(0x7f800000);
        for (int o = 16; o > 0; o >>= 1) v = nan_max(v, __shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    v = scratch[0];
    __syncthreads();
    return v;
}

// Convolution geometry, passed by value; field order matches CudaConv.geometry() on the Java side.
struct ConvGeom {
    int C, H, W;      // input channels (all groups) and plane
    int kh, kw;       // kernel
    int sh, sw;       // stride
    int ph, pw;       // padding
    int dh, dw;       // dilation
    int oh, ow;       // output plane
};

// Pooling geometry, passed by value; field order matches CudaPool.geometry() on the Java side.
struct PoolGeom {
    int H, W, oh, ow;
    int kh, kw, sh, sw, ph, pw;
    int countIncludePad;
};
