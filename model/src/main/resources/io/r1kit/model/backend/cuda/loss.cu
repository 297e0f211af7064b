// Loss-sized ops of the GRPO / SFT losses: unary elementwise ops, numpy-broadcast binary ops and
// where (operands read through strides over the output's shape, rank <= 4, stride 0 along a
// broadcast dim), and sum / mean reductions over one dim with an optional mask. Broadcast
// gradients meet in atomicAdd (fp32, order not fixed). Reductions: one thread per output element,
// double accumulation, so a global masked mean is one thread (fine for [B, T] loss tensors).
#include "r1kit_common.cuh"

// op: the ordinal of io.r1kit.model.backend.device.UnaryOp
// SCALE 0, ADD_SCALAR 1, NEG 2, EXP 3, LOG 4, SQRT 5, POW 6, CLAMP 7, SIGMOID 8, LOG_SIGMOID 9, ABS 10,
// LESS_THAN 11, GREATER_THAN 12 (p = the threshold; 1 or 0, zero gradient)
extern "C" __global__ void unary_fwd(int op, float* out, const float* x, long long n, float p, float q) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float v = x[i], r;
        switch (op) {
            case 0: r = p * v; break;
            case 1: r = v + p; break;
            case 2: r = -v; break;
            case 3: r = expf(v); break;
            case 4: r = logf(v); break;
            case 5: r = sqrtf(v); break;
            case 6: r = powf(v, p); break;
            case 7: r = fminf(fmaxf(v, p), q); break;
            case 8: r = 1.f / (1.f + expf(-v)); break;
            case 9: r = fminf(v, 0.f) - log1pf(expf(-fabsf(v))); break;
            case 10: r = fabsf(v); break;
            case 11: r = v < p ? 1.f : 0.f; break;
            default: r = v > p ? 1.f : 0.f; break;
        }
        out[i] = r;
    }
}

// dx += g * op'(x), y = the forward's output
extern "C" __global__ void unary_bwd(int op, float* dx, const float* g, const float* x, const float* y, long long n, float p,
                                     float q) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        float v = x[i], gi = g[i], d;
        switch (op) {
            case 0: d = p * gi; break;
            case 1: d = gi; break;
            case 2: d = -gi; break;
            case 3: d = gi * y[i]; break;
            case 4: d = gi / v; break;
            case 5: d = gi * 0.5f / y[i]; break;
            case 6: d = gi * p * powf(v, p - 1.f); break;
            case 7: d = v >= p && v <= q ? gi : 0.f; break;
            case 8: d = gi * y[i] * (1.f - y[i]); break;
            case 9: d = gi / (1.f + expf(v)); break;
            case 10: d = v > 0.f ? gi : v < 0.f ? -gi : 0.f; break;
            default: d = 0.f; break;   // the comparisons
        }
        dx[i] += d;
    }
}

// element offset of output index i (shape d0..d3) in an operand with strides s0..s3
__device__ __forceinline__ long long r1_at4(long long i, int d1, int d2, int d3, int s0, int s1, int s2, int s3) {
    long long i3 = i % d3; i /= d3;
    long long i2 = i % d2; i /= d2;
    long long i1 = i % d1;
    long long i0 = i / d1;
    return i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3;
}

// op: the ordinal of io.r1kit.model.backend.device.BinaryOp: ADD 0, SUB 1, MUL 2, DIV 3, MIN 4, MAX 5
__device__ __forceinline__ float r1_binary(int op, float x, float y) {
    switch (op) {
        case 0: return x + y;
        case 1: return x - y;
        case 2: return x * y;
        case 3: return x / y;
        case 4: return fminf(x, y);
        default: return fmaxf(x, y);
    }
}

// out[d0, d1, d2, d3] = op(a, b)
extern "C" __global__ void binary_fwd(int op, float* out, const float* a, const float* b, int d0, int d1, int d2, int d3,
                                      int sa0, int sa1, int sa2, int sa3, int sb0, int sb1, int sb2, int sb3) {
    long long n = (long long) d0 * d1 * d2 * d3;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = r1_binary(op, a[r1_at4(i, d1, d2, d3, sa0, sa1, sa2, sa3)], b[r1_at4(i, d1, d2, d3, sb0, sb1, sb2, sb3)]);
}

// da, db (either may be null) += g * d op; min / max ties give each operand half (as torch)
extern "C" __global__ void binary_bwd(int op, float* da, float* db, const float* g, const float* a, const float* b,
                                      int d0, int d1, int d2, int d3, int sa0, int sa1, int sa2, int sa3,
                                      int sb0, int sb1, int sb2, int sb3) {
    long long n = (long long) d0 * d1 * d2 * d3;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        long long ja = r1_at4(i, d1, d2, d3, sa0, sa1, sa2, sa3), jb = r1_at4(i, d1, d2, d3, sb0, sb1, sb2, sb3);
        float x = a[ja], y = b[jb], gi = g[i], ga, gb;
        switch (op) {
            case 0: ga = gi; gb = gi; break;
            case 1: ga = gi; gb = -gi; break;
            case 2: ga = gi * y; gb = gi * x; break;
            case 3: ga = gi / y; gb = -gi * x / (y * y); break;
            case 4: ga = x < y ? gi : x == y ? 0.5f * gi : 0.f; gb = y < x ? gi : x == y ? 0.5f * gi : 0.f; break;
            default: ga = x > y ? gi : x == y ? 0.5f * gi : 0.f; gb = y > x ? gi : x == y ? 0.5f * gi : 0.f; break;
        }
        if (da) atomicAdd(da + ja, ga);
        if (db) atomicAdd(db + jb, gb);
    }
}

// out = cond != 0 ? a : b
extern "C" __global__ void where_fwd(float* out, const float* cond, const float* a, const float* b, int d0, int d1, int d2,
                                     int d3, int sc0, int sc1, int sc2, int sc3, int sa0, int sa1, int sa2, int sa3,
                                     int sb0, int sb1, int sb2, int sb3) {
    long long n = (long long) d0 * d1 * d2 * d3;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = cond[r1_at4(i, d1, d2, d3, sc0, sc1, sc2, sc3)] != 0.f ? a[r1_at4(i, d1, d2, d3, sa0, sa1, sa2, sa3)]
                                                                      : b[r1_at4(i, d1, d2, d3, sb0, sb1, sb2, sb3)];
}

// da += g where cond != 0, db += g elsewhere (either may be null)
extern "C" __global__ void where_bwd(float* da, float* db, const float* g, const float* cond, int d0, int d1, int d2, int d3,
                                     int sc0, int sc1, int sc2, int sc3, int sa0, int sa1, int sa2, int sa3,
                                     int sb0, int sb1, int sb2, int sb3) {
    long long n = (long long) d0 * d1 * d2 * d3;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        if (cond[r1_at4(i, d1, d2, d3, sc0, sc1, sc2, sc3)] != 0.f) {
            if (da) atomicAdd(da + r1_at4(i, d1, d2, d3, sa0, sa1, sa2, sa3), g[i]);
        } else if (db) {
            atomicAdd(db + r1_at4(i, d1, d2, d3, sb0, sb1, sb2, sb3), g[i]);
        }
    }
}

// row scale of masked_reduce: 1 (sum), 1/n (mean, no mask), 1/sum(mask) (0 for an empty row)
__device__ __forceinline__ double r1_row_scale(const float* mask, int o, int n, int inner, int i, int mean) {
    if (!mean) return 1.0;
    if (!mask) return 1.0 / n;
    double den = 0.0;
    for (int j = 0; j < n; j++) den += mask[((long long) o * n + j) * inner + i];
    return den == 0.0 ? 0.0 : 1.0 / den;
}

// x [outer, n, inner] -> out[o, i] = scale * sum_j x * mask (mask may be null = ones)
extern "C" __global__ void masked_reduce_fwd(float* out, const float* x, const float* mask, int outer, int n, int inner, int mean) {
    long long rows = (long long) outer * inner;
    for (long long r = blockIdx.x * (long long) blockDim.x + threadIdx.x; r < rows; r += (long long) gridDim.x * blockDim.x) {
        int o = (int) (r / inner), i = (int) (r % inner);
        double acc = 0.0;
        for (int j = 0; j < n; j++) {
            long long k = ((long long) o * n + j) * inner + i;
            if (!mask) acc += x[k];
            else if (mask[k] != 0.f) acc += (double) x[k] * mask[k];
        }
        out[r] = (float) (acc * r1_row_scale(mask, o, n, inner, i, mean));
    }
}

// dx[o, j, i] += g[o, i] * scale * mask[o, j, i]
extern "C" __global__ void masked_reduce_bwd(float* dx, const float* g, const float* mask, int outer, int n, int inner, int mean) {
    long long rows = (long long) outer * inner;
    for (long long r = blockIdx.x * (long long) blockDim.x + threadIdx.x; r < rows; r += (long long) gridDim.x * blockDim.x) {
        int o = (int) (r / inner), i = (int) (r % inner);
        double sc = r1_row_scale(mask, o, n, inner, i, mean);
        for (int j = 0; j < n; j++) {
            long long k = ((long long) o * n + j) * inner + i;
            if (!mask) dx[k] += g[r] * (float) sc;
            else if (mask[k] != 0.f) dx[k] += (float) (g[r] * sc * mask[k]);
        }
    }
}
