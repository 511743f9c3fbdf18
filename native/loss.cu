// Softmax cross-entropy with label smoothing: forward (probabilities + per-row loss) and backward.
// Java reference: ReferenceKernels.softmaxCrossEntropy / softmaxCrossEntropyBackward.
//
// Launch shapes:
//   xent_fwd : one block of THREADS per row (N rows of K logits): block max, then Σ exp(x − max) and Σ x in
//              double, then probs; thread 0 writes the row's loss (double) for the host to average.
//   xent_bwd : one thread per logit, grid-stride.
// Napkin math: N·K ≤ 256·1000 = 1 MB of logits: a few µs; launch-bound. The host sync to read the loss back is
// the real cost (≈ 10 µs), once per training step.
#include "common.cuh"

extern "C" __global__ void xent_fwd(const float* __restrict__ logits, const int* __restrict__ labels,
                                    float smoothing, int K, float* __restrict__ probs,
                                    double* __restrict__ rowLoss) {
    __shared__ double scratch[32];
    __shared__ float fscratch[32];
    long long row = (long long)blockIdx.x * K;
    float m = -__int_as_float(0x7f800000);
    for (int j = threadIdx.x; j < K; j += blockDim.x) m = nan_max(m, logits[row + j]);
    m = block_max(m, fscratch);
    double sumExp = 0.0, sumLogits = 0.0;
    for (int j = threadIdx.x; j < K; j += blockDim.x) {
        float v = logits[row + j];
        sumExp += exp((double)v - m);
        sumLogits += v;
    }
    sumExp = block_sum(sumExp, scratch);
    sumLogits = block_sum(sumLogits, scratch);
    double logZ = m + log(sumExp);
    for (int j = threadIdx.x; j < K; j += blockDim.x) probs[row + j] = (float)exp(logits[row + j] - logZ);
    if (threadIdx.x == 0) {
        rowLoss[blockIdx.x] = logZ - (1.0 - smoothing) * logits[row + labels[blockIdx.x]]
                - smoothing * sumLogits / K;
    }
}

// dlogits += scale·(probs − target)/N, target = (1 − ε)·onehot + ε/K.
extern "C" __global__ void xent_bwd(const float* __restrict__ probs, const int* __restrict__ labels,
                                    float smoothing, float scale, int N, int K, float* __restrict__ dlogits) {
    double off = smoothing / (double)K;
    GRID_STRIDE(i, (long long)N * K) {
        int r = (int)(i / K), j = (int)(i % K);
        double target = (j == labels[r] ? 1.0 - smoothing : 0.0) + off;
        dlogits[i] += (float)(scale * (probs[i] - target) / N);
    }
}
