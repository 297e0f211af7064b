// Row-wise softmax family over [N, V]: one block per row (blockDim a multiple of 32), fp32 math,
// block reductions in fp32 (each thread first sums its strided share, so a 150k-wide row is a
// ~600-term per-thread sum plus a 256-way tree: relative error ~1e-6).
// The fused kernels (token log-probs, entropy) never write [N, V] in the forward; their backward
// recomputes p = exp(x - lse) from the logits and the saved per-row lse.
#include "r1kit_common.cuh"

// out = softmax(x)
extern "C" __global__ void softmax_fwd(float* out, const float* x, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = x + (long long) n * V;
    float* o = out + (long long) n * V;
    float m = R1_NEG_INF;
    for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = r1_block_max(m, sh);
    float s = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) s += expf(xr[i] - m);
    s = r1_block_sum(s, sh);
    float inv = 1.f / s;
    for (int i = threadIdx.x; i < V; i += blockDim.x) o[i] = expf(xr[i] - m) * inv;
}

// dx += y * (dy - sum(dy * y))
extern "C" __global__ void softmax_bwd(float* dx, const float* dy, const float* y, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    long long base = (long long) n * V;
    float dot = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) dot = fmaf(dy[base + i], y[base + i], dot);
    dot = r1_block_sum(dot, sh);
    for (int i = threadIdx.x; i < V; i += blockDim.x) dx[base + i] += y[base + i] * (dy[base + i] - dot);
}

// out = x - logsumexp(x)
extern "C" __global__ void log_softmax_fwd(float* out, const float* x, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = x + (long long) n * V;
    float m = R1_NEG_INF;
    for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = r1_block_max(m, sh);
    float s = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) s += expf(xr[i] - m);
    s = r1_block_sum(s, sh);
    float lse = m + logf(s);
    float* o = out + (long long) n * V;
    for (int i = threadIdx.x; i < V; i += blockDim.x) o[i] = xr[i] - lse;
}

// dx += dy - exp(y) * sum(dy), y = log-softmax output
extern "C" __global__ void log_softmax_bwd(float* dx, const float* dy, const float* y, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    long long base = (long long) n * V;
    float sdy = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) sdy += dy[base + i];
    sdy = r1_block_sum(sdy, sh);
    for (int i = threadIdx.x; i < V; i += blockDim.x) dx[base + i] += dy[base + i] - expf(y[base + i]) * sdy;
}

// Fused log-softmax + gather: out[n] = logits[n, t] - lse[n] (0 when t < 0); lse[n] saved.
extern "C" __global__ void token_logprobs_fwd(float* out, float* lse, const float* logits, const int* target, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = logits + (long long) n * V;
    float m = R1_NEG_INF;
    for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = r1_block_max(m, sh);
    float s = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) s += expf(xr[i] - m);
    s = r1_block_sum(s, sh);
    if (threadIdx.x == 0) {
        float l = m + logf(s);
        int t = target[n];
        lse[n] = l;
        out[n] = t < 0 ? 0.f : xr[t] - l;
    }
}

// dlogits[n, :] += dout[n] * (onehot(t) - softmax(logits[n, :])); rows with t < 0 are skipped.
extern "C" __global__ void token_logprobs_bwd(float* dlogits, const float* dout, const float* logits, const float* lse,
                                              const int* target, int N, int V) {
    int n = blockIdx.x;
    if (n >= N) return;
    int t = target[n];
    float g = dout[n];
    if (t < 0 || g == 0.f) return;
    float l = lse[n];
    long long base = (long long) n * V;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float d = -g * expf(logits[base + i] - l);
        if (i == t) d += g;
        dlogits[base + i] += d;
    }
}

// Entropy H = -sum p log p = log Z - sum e (x - m) / Z with e = exp(x - m); lse = m + log Z.
// -inf logits (masked vocabulary) contribute 0: x - m is clamped to -FLT_MAX so e * d = 0, not NaN.
extern "C" __global__ void entropy_fwd(float* out, float* lse, const float* logits, int N, int V) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = logits + (long long) n * V;
    float m = R1_NEG_INF;
    for (int i = threadIdx.x; i < V; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = r1_block_max(m, sh);
    float z = 0.f, ex = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float d = fmaxf(xr[i] - m, -3.402823466e38f);
        float e = expf(d);
        z += e;
        ex = fmaf(e, d, ex);
    }
    z = r1_block_sum(z, sh);
    ex = r1_block_sum(ex, sh);
    if (threadIdx.x == 0) {
        float logZ = logf(z);
        lse[n] = m + logZ;
        out[n] = logZ - ex / z;
    }
}

// dlogits[n, v] += dout[n] * (-p_v (log p_v + H_n)), log p = x - lse.
extern "C" __global__ void entropy_bwd(float* dlogits, const float* dout, const float* logits, const float* lse,
                                       const float* entropy, int N, int V) {
    int n = blockIdx.x;
    if (n >= N) return;
    float g = dout[n];
    if (g == 0.f) return;
    float l = lse[n], h = entropy[n];
    long long base = (long long) n * V;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float logp = fmaxf(logits[base + i] - l, -3.402823466e38f);
        float p = expf(logp);
        dlogits[base + i] -= g * p * (logp + h);
    }
}
