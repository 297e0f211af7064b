// KV cache maintenance for decoding. cache: [B, maxT, Hkv*D] (one of k or v); rowSize = Hkv*D.
#include "r1kit_common.cuh"

// cache[b, start[b] + t, :] = rows[b, t, :] for t < Tnew (rows: [B, Tnew, rowSize]); the host
// checks start[b] + Tnew <= maxT. grid: (Tnew, B).
extern "C" __global__ void kv_append(float* cache, const float* rows, const int* start, int B, int Tnew, int maxT, int rowSize) {
    int t = blockIdx.x, b = blockIdx.y;
    if (t >= Tnew || b >= B) return;
    float* dst = cache + ((long long) b * maxT + start[b] + t) * rowSize;
    const float* src = rows + ((long long) b * Tnew + t) * rowSize;
    for (int i = threadIdx.x; i < rowSize; i += blockDim.x) dst[i] = src[i];
}

// dst[i, :] = src[idx[i], :] over whole per-sequence slabs of slabSize floats (e.g. maxT*Hkv*D):
// reorders/forks cache entries when sequences finish or a group is expanded. grid: nOut blocks.
extern "C" __global__ void kv_gather(float* dst, const float* src, const int* idx, int nOut, long long slabSize) {
    int i = blockIdx.x;
    if (i >= nOut) return;
    const float* s = src + (long long) idx[i] * slabSize;
    float* d = dst + (long long) i * slabSize;
    for (long long j = threadIdx.x; j < slabSize; j += blockDim.x) d[j] = s[j];
}
