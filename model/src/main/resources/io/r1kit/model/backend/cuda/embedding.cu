// Token embedding. table: [vocab, C]; ids: [N] (validated on the host: 0 <= id < vocab).
#include "r1kit_common.cuh"

// out[N, C] = table[ids[n], :]. grid: N blocks.
extern "C" __global__ void embedding_fwd(float* out, const float* table, const int* ids, int N, int C) {
    int n = blockIdx.x;
    if (n >= N) return;
    const float* src = table + (long long) ids[n] * C;
    float* dst = out + (long long) n * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) dst[c] = src[c];
}

// dtable[ids[n], :] += dout[n, :]. Repeated ids meet in atomicAdd: the sum is exact up to fp32
// rounding order (not bit-reproducible run to run, unlike the CPU kernel). grid: N blocks.
extern "C" __global__ void embedding_bwd(float* dtable, const float* dout, const int* ids, int N, int C) {
    int n = blockIdx.x;
    if (n >= N) return;
    float* dst = dtable + (long long) ids[n] * C;
    const float* src = dout + (long long) n * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(dst + c, src[c]);
}
