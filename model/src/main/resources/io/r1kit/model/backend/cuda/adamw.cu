// AdamW (torch.optim.AdamW: decoupled weight decay applied to p before the Adam step):
// p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
// Mixed precision: p (the master weights), m and v are fp32; the bf16 variant reads bf16
// gradients and writes the bf16 working copy of the updated weights used by forward/backward.
#include "r1kit_common.cuh"

__device__ __forceinline__ float r1_adamw_update(float* p, float* m, float* v, long long i, float g, float beta1, float beta2,
                                                 float eps, float decay, float stepSize, float invSqrtBc2) {
    float mi = beta1 * m[i] + (1.f - beta1) * g;
    float vi = beta2 * v[i] + (1.f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    float pi = p[i] * decay - stepSize * (mi / (sqrtf(vi) * invSqrtBc2 + eps));
    p[i] = pi;
    return pi;
}

// fp32 gradients, fp32 weights (the Backend.adamw contract).
extern "C" __global__ void adamw_f32(float* p, const float* g, float* m, float* v, long long n, float lr, float beta1,
                                     float beta2, float eps, float weightDecay, float bc1, float bc2) {
    float decay = 1.f - lr * weightDecay, stepSize = lr / bc1, invSqrtBc2 = rsqrtf(bc2);
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        r1_adamw_update(p, m, v, i, g[i], beta1, beta2, eps, decay, stepSize, invSqrtBc2);
}

// Mixed precision step: bf16 gradients (times gradScale, e.g. a clipping factor), fp32 master p,
// fp32 moments; p16 receives the bf16 copy of the updated weights.
extern "C" __global__ void adamw_bf16(float* p, const bf16_t* g, float* m, float* v, bf16_t* p16, long long n, float lr,
                                      float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2,
                                      float gradScale) {
    float decay = 1.f - lr * weightDecay, stepSize = lr / bc1, invSqrtBc2 = rsqrtf(bc2);
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float pi = r1_adamw_update(p, m, v, i, r1_bf16_to_f32(g[i]) * gradScale, beta1, beta2, eps, decay, stepSize, invSqrtBc2);
        p16[i] = r1_f32_to_bf16(pi);
    }
}
