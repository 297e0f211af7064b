// Elementwise kernels and global reductions (length n, grid-stride loops, 256 threads).
#include "r1kit_common.cuh"

// out = a + b
extern "C" __global__ void add_f32(float* out, const float* a, const float* b, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = a[i] + b[i];
}

// out = a * b
extern "C" __global__ void mul_f32(float* out, const float* a, const float* b, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = a[i] * b[i];
}

// y += alpha * x
extern "C" __global__ void axpy_f32(float alpha, const float* x, float* y, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        y[i] = fmaf(alpha, x[i], y[i]);
}

// out = alpha * a
extern "C" __global__ void scale_f32(float* out, const float* a, float alpha, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = alpha * a[i];
}

// partials[blockIdx.x] = sum over this block's grid-stride share of a (or a^2 when squares != 0),
// accumulated in double (the Backend contract for sum / sumSquares); finished by sum_finish_f64.
extern "C" __global__ void sum_partials_f32(const float* a, long long n, int squares, double* partials) {
    __shared__ double sh[32];
    double acc = 0.0;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        double x = a[i];
        acc += squares ? x * x : x;
    }
    acc = r1_block_sum_d(acc, sh);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

// out[0] (+)= sum of partials[0..n); one block. accumulate != 0 adds to out[0] (several tensors
// into one global sum of squares for norm clipping).
extern "C" __global__ void sum_finish_f64(const double* partials, int n, double* out, int accumulate) {
    __shared__ double sh[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) acc += partials[i];
    acc = r1_block_sum_d(acc, sh);
    if (threadIdx.x == 0) out[0] = accumulate ? out[0] + acc : acc;
}

// Global-norm clipping without a host round trip: sumsq[0] is the global sum of squares of all
// gradients; g *= min(1, maxNorm / (sqrt(sumsq) + 1e-6)) (torch.nn.utils.clip_grad_norm_).
extern "C" __global__ void clip_scale_f32(float* g, long long n, const double* sumsq, float maxNorm) {
    float norm = (float) sqrt(sumsq[0]);
    float coef = maxNorm / (norm + 1e-6f);
    if (coef >= 1.f) return;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        g[i] *= coef;
}

// Cross-entropy / masked-mean pieces: partials[2*block] = sum x*mask, partials[2*block+1] = sum mask
// (double), so loss = -sum(logp*mask)/sum(mask) is reduced on the device.
extern "C" __global__ void masked_sum_partials_f32(const float* x, const float* mask, long long n, double* partials) {
    __shared__ double sh[32];
    double sx = 0.0, sm = 0.0;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        double m = mask[i];
        sx += (double) x[i] * m;
        sm += m;
    }
    sx = r1_block_sum_d(sx, sh);
    sm = r1_block_sum_d(sm, sh);
    if (threadIdx.x == 0) {
        partials[2 * blockIdx.x] = sx;
        partials[2 * blockIdx.x + 1] = sm;
    }
}

// Mixed precision: fp32 -> bf16 copies (GEMM operands, bf16 weight copies) and back.
extern "C" __global__ void f32_to_bf16(bf16_t* out, const float* in, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = r1_f32_to_bf16(in[i]);
}

extern "C" __global__ void bf16_to_f32(float* out, const bf16_t* in, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = r1_bf16_to_f32(in[i]);
}

// dst[dstOff + r*dstLd + c] (+)= src[srcOff + r*srcLd + c] for r < rows, c < cols: slice and
// concat along any dim (a tensor viewed as [outer, n, inner] is rows = outer blocks of n*inner
// contiguous floats) and their backwards (accumulate = 1). Each destination element is written by
// one thread, so accumulation needs no atomics.
extern "C" __global__ void copy2d_f32(float* dst, long long dstOff, long long dstLd, const float* src, long long srcOff,
                                      long long srcLd, long long rows, long long cols, int accumulate) {
    long long n = rows * cols;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long r = i / cols, c = i - r * cols;
        float v = src[srcOff + r * srcLd + c];
        float* d = dst + dstOff + r * dstLd + c;
        *d = accumulate ? *d + v : v;
    }
}
