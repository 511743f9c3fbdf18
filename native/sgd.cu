// SGD with momentum / Nesterov / weight decay, PyTorch's torch.optim.SGD (dampening 0), in float, PyTorch's order.
// Java reference: ReferenceKernels.sgdStep.
//
// Launch shape: one thread per parameter, THREADS = 256, grid-stride.
// Napkin math: reads p, g, v and writes p, v: 20 B per parameter; GoogLeNet's 6.6 M parameters ≈ 132 MB per step
// ≈ 45 µs at 3 TB/s if launched once per tensor (≈ 60 tensors × ~4 µs launch ≈ 0.25 ms: a multi-tensor launch
// would pay off later).
#include "common.cuh"

// velocity may be null (hasVelocity = 0), then momentum must be 0 (checked on the Java side).
extern "C" __global__ void sgd_step(float* __restrict__ param, const float* __restrict__ grad,
                                    float* __restrict__ velocity, int hasVelocity, float lr, float momentum,
                                    float weightDecay, int nesterov, long long n) {
    GRID_STRIDE(i, n) {
        float p = param[i];
        float g = grad[i] + weightDecay * p;
        if (hasVelocity) {
            float v = momentum * velocity[i] + g;
            velocity[i] = v;
            g = nesterov ? g + momentum * v : v;
        }
        param[i] = p - lr * g;
    }
}
