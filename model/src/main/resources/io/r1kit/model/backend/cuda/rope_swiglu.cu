// Rotary embedding (Hugging Face rotate-half) and the SwiGLU gate.
#include "r1kit_common.cuh"

// x, out: [R, H, D]; pos: [R]; cos, sin: [maxPos, D/2]. out may alias x: each thread reads its pair
// before writing it. inverse != 0 rotates by -theta (the backward pass). One thread per (r, h, i < D/2).
extern "C" __global__ void rope_f32(float* out, const float* x, const int* pos, const float* cosT, const float* sinT,
                                    int R, int H, int D, int inverse) {
    int half = D / 2;
    long long total = (long long) R * H * half;
    for (long long idx = blockIdx.x * (long long) blockDim.x + threadIdx.x; idx < total; idx += (long long) gridDim.x * blockDim.x) {
        int i = (int) (idx % half);
        long long rh = idx / half;          // r * H + h
        int r = (int) (rh / H);
        long long tb = (long long) pos[r] * half + i;
        float c = cosT[tb], s = inverse ? -sinT[tb] : sinT[tb];
        long long base = rh * D;
        float x1 = x[base + i], x2 = x[base + half + i];
        out[base + i] = x1 * c - x2 * s;
        out[base + half + i] = x2 * c + x1 * s;
    }
}

// out = silu(a) * b, silu(a) = a * sigmoid(a)
extern "C" __global__ void swiglu_fwd(float* out, const float* a, const float* b, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float sig = 1.f / (1.f + expf(-a[i]));
        out[i] = a[i] * sig * b[i];
    }
}

// da += dout * b * silu'(a), silu'(a) = sig (1 + a (1 - sig));  db += dout * silu(a)
extern "C" __global__ void swiglu_bwd(float* da, float* db, const float* dout, const float* a, const float* b, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float ai = a[i];
        float sig = 1.f / (1.f + expf(-ai));
        float dsilu = sig * (1.f + ai * (1.f - sig));
        da[i] += dout[i] * b[i] * dsilu;
        db[i] += dout[i] * ai * sig;
    }
}
