// Shared device helpers for the r1kit CUDA kernels. Compiled at run time by NVRTC (passed as a
// header source, so no system headers are needed) and by nvcc in the kernel build check.
// Conventions: row-major contiguous tensors, shapes in the kernel comments, fp32 arithmetic and
// fp32 (or double, for global sums) reductions; bf16 is stored as its raw 16 bits (bf16_t).
#pragma once

typedef unsigned short bf16_t;

#define R1_FULL_MASK 0xffffffffu
#define R1_NEG_INF (__int_as_float(0xff800000))

__device__ __forceinline__ float r1_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(R1_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double r1_warp_sum_d(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(R1_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float r1_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(R1_FULL_MASK, v, o));
    return v;
}

// Block-wide sum; blockDim.x must be a multiple of 32 (<= 1024). Every thread gets the result.
// sh: __shared__ scratch of 32 floats. Safe to call repeatedly with the same scratch.
__device__ __forceinline__ float r1_block_sum(float v, float* sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = r1_warp_sum(v);
    __syncthreads();                 // earlier readers of sh are done
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    return r1_warp_sum(lane < nw ? sh[lane] : 0.f);
}

__device__ __forceinline__ double r1_block_sum_d(double v, double* sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = r1_warp_sum_d(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    return r1_warp_sum_d(lane < nw ? sh[lane] : 0.0);
}

__device__ __forceinline__ float r1_block_max(float v, float* sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = r1_warp_max(v);
    __syncthreads();
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    return r1_warp_max(lane < nw ? sh[lane] : R1_NEG_INF);
}

// fp32 -> bf16, round to nearest even (as torch's .to(bfloat16)); NaN stays a (quiet) NaN.
__device__ __forceinline__ bf16_t r1_f32_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16_t) ((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16_t) (u >> 16);
}

__device__ __forceinline__ float r1_bf16_to_f32(bf16_t h) {
    return __uint_as_float(((unsigned int) h) << 16);
}
