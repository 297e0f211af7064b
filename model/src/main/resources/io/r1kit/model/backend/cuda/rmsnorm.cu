// RMSNorm, as Hugging Face LlamaRMSNorm in fp32: out = x * rstd * w, rstd = 1/sqrt(mean(x^2)+eps).
// x, out, dout, dx: [N, C]; w, dw: [C]; rstd: [N].
#include "r1kit_common.cuh"

// grid: N blocks (one row each), blockDim multiple of 32.
extern "C" __global__ void rmsnorm_fwd(float* out, float* rstd, const float* x, const float* w, int N, int C, float eps) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = x + (long long) n * C;
    float ss = 0.f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) ss = fmaf(xr[c], xr[c], ss);
    ss = r1_block_sum(ss, sh);
    float r = rsqrtf(ss / C + eps);
    if (threadIdx.x == 0) rstd[n] = r;
    float* o = out + (long long) n * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = xr[c] * r * w[c];
}

// dx[n,i] += r * dout_i w_i - r^3 / C * x_i * sum_j(dout_j w_j x_j). grid: N blocks.
extern "C" __global__ void rmsnorm_bwd_dx(float* dx, const float* dout, const float* x, const float* w, const float* rstd, int N, int C) {
    __shared__ float sh[32];
    int n = blockIdx.x;
    if (n >= N) return;
    long long base = (long long) n * C;
    float dot = 0.f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dot = fmaf(dout[base + c] * w[c], x[base + c], dot);
    dot = r1_block_sum(dot, sh);
    float r = rstd[n];
    float k = -r * r * r / C * dot;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        dx[base + c] += fmaf(r * dout[base + c], w[c], k * x[base + c]);
}

// dw[i] += sum_n dout[n,i] x[n,i] rstd[n]. grid: (ceil(C / blockDim), chunks); block y sums rows
// [y*rowsPerChunk, ...) for its columns and adds the partial with one atomicAdd per column.
extern "C" __global__ void rmsnorm_bwd_dw(float* dw, const float* dout, const float* x, const float* rstd, int N, int C, int rowsPerChunk) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    int n0 = blockIdx.y * rowsPerChunk, n1 = min(N, n0 + rowsPerChunk);
    float acc = 0.f;
    for (int n = n0; n < n1; n++) {
        long long i = (long long) n * C + c;
        acc = fmaf(dout[i], x[i] * rstd[n], acc);
    }
    if (n1 > n0) atomicAdd(dw + c, acc);
}
