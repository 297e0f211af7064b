// Causal grouped-query flash attention (same contract as Backend.attentionForward/Backward):
// q, out, dout, dq: [B, Tq, Hq, D];  k, v, dk, dv: [B, Tk, Hkv, D];  lse, Di: [B, Hq, Tq];
// keyMask: [B, Tk] bytes, nonzero = real key (nullptr = all real). Query row t sits at key position
// qStart + t and sees key j iff j <= qStart + t and keyMask[b, j] != 0. A query with no visible key
// outputs 0, gets lse = -inf and no gradient. Query head h reads kv head h / (Hq / Hkv). D <= 256.
// Arithmetic in fp32; no [Tq, Tk] matrix is ever stored.
#include "r1kit_common.cuh"

#define ATT_BK 32            // keys per tile (one per lane when scoring)
#define ATT_WARPS 4          // warps per block
#define ATT_ROWS_PER_WARP 4  // forward: query rows per warp
#define ATT_BQ (ATT_WARPS * ATT_ROWS_PER_WARP)
#define ATT_MAX_D 256
#define ATT_DPL (ATT_MAX_D / 32)  // head dims per lane in the P.V accumulators

__device__ __forceinline__ bool att_visible(const unsigned char* keyMask, int b, int Tk, int j, int qPos) {
    return j < Tk && j <= qPos && (keyMask == nullptr || keyMask[(long long) b * Tk + j] != 0);
}

// Forward, flash-attention style. grid: (ceil(Tq / 16), Hq, B); block: 128 threads.
// Dynamic shared memory: (16*D + 32*(D+1) + 32*D) floats: the block's 16 pre-scaled query rows and
// one K/V tile of 32 keys, loaded once and used by all 16 rows. Each warp owns 4 query rows and
// keeps their online-softmax state (running max m, denominator l, accumulator over D split across
// lanes) in registers; per tile, lane j scores key j (K rows padded to D+1 floats: conflict-free),
// the warp reduces max/sum with shuffles, rescales, and accumulates P.V with p_j broadcast by shuffle.
extern "C" __global__ void __launch_bounds__(128) attention_fwd(float* out, float* lse, const float* q, const float* k,
        const float* v, const unsigned char* keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
    extern __shared__ float smem[];
    float* qs = smem;                        // [16][D]
    float* ks = qs + ATT_BQ * D;             // [32][D+1]
    float* vs = ks + ATT_BK * (D + 1);       // [32][D]
    int b = blockIdx.z, h = blockIdx.y, t0 = blockIdx.x * ATT_BQ;
    int kh = h / (Hq / Hkv);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int idx = threadIdx.x; idx < ATT_BQ * D; idx += blockDim.x) {
        int r = idx / D, d = idx - r * D, t = t0 + r;
        qs[idx] = t < Tq ? q[(((long long) b * Tq + t) * Hq + h) * D + d] * scale : 0.f;
    }
    float m[ATT_ROWS_PER_WARP], l[ATT_ROWS_PER_WARP], acc[ATT_ROWS_PER_WARP][ATT_DPL];
#pragma unroll
    for (int r = 0; r < ATT_ROWS_PER_WARP; r++) {
        m[r] = R1_NEG_INF;
        l[r] = 0.f;
#pragma unroll
        for (int i = 0; i < ATT_DPL; i++) acc[r][i] = 0.f;
    }
    int tEnd = min(Tq, t0 + ATT_BQ);
    int keyEnd = min(Tk, qStart + tEnd);     // the block's last query sees keys < qStart + tEnd
    for (int j0 = 0; j0 < keyEnd; j0 += ATT_BK) {
        __syncthreads();                     // the previous tile (and the q tile) is ready / consumed
        for (int idx = threadIdx.x; idx < ATT_BK * D; idx += blockDim.x) {
            int jj = idx / D, d = idx - jj * D, j = j0 + jj;
            long long src = (((long long) b * Tk + j) * Hkv + kh) * D + d;
            ks[jj * (D + 1) + d] = j < Tk ? k[src] : 0.f;
            vs[jj * D + d] = j < Tk ? v[src] : 0.f;
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < ATT_ROWS_PER_WARP; r++) {
            int row = warp * ATT_ROWS_PER_WARP + r, t = t0 + row;
            int qPos = qStart + t;
            if (t >= Tq || j0 > qPos) continue;               // warp-uniform
            int j = j0 + lane;
            bool vis = att_visible(keyMask, b, Tk, j, qPos);
            float s = R1_NEG_INF;
            if (vis) {
                const float* qr = qs + row * D;
                const float* kr = ks + lane * (D + 1);
                float dot = 0.f;
                for (int d = 0; d < D; d++) dot = fmaf(qr[d], kr[d], dot);
                s = dot;
            }
            float tileMax = r1_warp_max(s);
            if (tileMax == R1_NEG_INF) continue;              // nothing visible in this tile (uniform)
            float mNew = fmaxf(m[r], tileMax);
            float corr = expf(m[r] - mNew);                   // 0 on the first visible tile
            float p = vis ? expf(s - mNew) : 0.f;
            l[r] = l[r] * corr + r1_warp_sum(p);
            m[r] = mNew;
#pragma unroll
            for (int i = 0; i < ATT_DPL; i++) acc[r][i] *= corr;
            for (int jj = 0; jj < ATT_BK; jj++) {
                float pj = __shfl_sync(R1_FULL_MASK, p, jj);
                if (pj == 0.f) continue;                      // uniform: masked keys never touch v
                const float* vr = vs + jj * D;
#pragma unroll
                for (int i = 0; i < ATT_DPL; i++) {
                    int d = lane + 32 * i;
                    if (d < D) acc[r][i] = fmaf(pj, vr[d], acc[r][i]);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS_PER_WARP; r++) {
        int t = t0 + warp * ATT_ROWS_PER_WARP + r;
        if (t >= Tq) continue;
        long long oBase = (((long long) b * Tq + t) * Hq + h) * D;
        bool none = l[r] == 0.f;
        float inv = none ? 0.f : 1.f / l[r];
#pragma unroll
        for (int i = 0; i < ATT_DPL; i++) {
            int d = lane + 32 * i;
            if (d < D) out[oBase + d] = acc[r][i] * inv;
        }
        if (lane == 0) lse[((long long) b * Hq + h) * Tq + t] = none ? R1_NEG_INF : m[r] + logf(l[r]);
    }
}

// Backward step 1: Di[b, h, t] = sum_d dout[b,t,h,d] * out[b,t,h,d]. One warp per (b, t, h) row.
extern "C" __global__ void attention_bwd_dot(float* Di, const float* dout, const float* out, int B, int Tq, int Hq, int D) {
    long long row = (blockIdx.x * (long long) blockDim.x + threadIdx.x) >> 5;   // (b * Tq + t) * Hq + h
    int lane = threadIdx.x & 31;
    long long rows = (long long) B * Tq * Hq;
    if (row >= rows) return;                  // whole warp leaves together
    float s = 0.f;
    for (int d = lane; d < D; d += 32) s = fmaf(dout[row * D + d], out[row * D + d], s);
    s = r1_warp_sum(s);
    if (lane == 0) {
        int h = (int) (row % Hq);
        long long bt = row / Hq;
        int t = (int) (bt % Tq), b = (int) (bt / Tq);
        Di[((long long) b * Hq + h) * Tq + t] = s;
    }
}

// Backward step 2, flash-attention-2 style. grid: (ceil(Tk / 32), Hkv, B); block: 128 threads.
// A block owns a tile of 32 keys of one kv head: it keeps K, V and the dK, dV accumulators of the
// tile in shared memory (rows padded to D+1), walks every query row of every head of the group
// that can see the tile (rows split across the 4 warps), recomputes p = exp(q.k * scale - lse),
// dP = dout.v, dS = p (dP - Di), and accumulates dV_j += p_j dout, dK_j += scale dS_j q (shared
// atomics: warps share the tile's rows) and dq += scale sum_j dS_j k_j (global atomics: key tiles
// of other blocks add to the same dq rows). dk, dv are added to once at the end (the block owns
// them). Dynamic shared memory: (4*32*(D+1) + 4*(2*D + 32)) floats.
extern "C" __global__ void __launch_bounds__(128) attention_bwd(float* dq, float* dk, float* dv, const float* dout,
        const float* q, const float* k, const float* v, const float* lse, const float* Di, const unsigned char* keyMask,
        int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
    extern __shared__ float smem[];
    int P = D + 1;
    float* ks = smem;                        // [32][D+1]
    float* vs = ks + ATT_BK * P;
    float* dks = vs + ATT_BK * P;
    float* dvs = dks + ATT_BK * P;
    float* wbuf = dvs + ATT_BK * P;          // per warp: q row [D], dout row [D], dS [32]
    int b = blockIdx.z, kh = blockIdx.y, j0 = blockIdx.x * ATT_BK;
    int group = Hq / Hkv;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    float* qrow = wbuf + warp * (2 * D + ATT_BK);
    float* dorow = qrow + D;
    float* dsrow = dorow + D;
    for (int idx = threadIdx.x; idx < ATT_BK * D; idx += blockDim.x) {
        int jj = idx / D, d = idx - jj * D, j = j0 + jj;
        long long src = (((long long) b * Tk + j) * Hkv + kh) * D + d;
        ks[jj * P + d] = j < Tk ? k[src] : 0.f;
        vs[jj * P + d] = j < Tk ? v[src] : 0.f;
        dks[jj * P + d] = 0.f;
        dvs[jj * P + d] = 0.f;
    }
    __syncthreads();
    int j = j0 + lane;
    int tFirst = max(0, j0 - qStart);        // earlier query rows see no key of this tile
    for (int g = 0; g < group; g++) {
        int h = kh * group + g;
        for (int t = tFirst + warp; t < Tq; t += ATT_WARPS) {
            float l = lse[((long long) b * Hq + h) * Tq + t];
            if (l == R1_NEG_INF) continue;    // no visible key: no gradient (warp-uniform)
            long long qBase = (((long long) b * Tq + t) * Hq + h) * D;
            __syncwarp();
            for (int d = lane; d < D; d += 32) {
                qrow[d] = q[qBase + d];
                dorow[d] = dout[qBase + d];
            }
            __syncwarp();
            bool vis = att_visible(keyMask, b, Tk, j, qStart + t);
            float ds = 0.f;
            if (vis) {
                const float* kr = ks + lane * P;
                const float* vr = vs + lane * P;
                float s = 0.f, dp = 0.f;
                for (int d = 0; d < D; d++) {
                    s = fmaf(qrow[d], kr[d], s);
                    dp = fmaf(dorow[d], vr[d], dp);
                }
                float p = expf(s * scale - l);
                ds = p * (dp - Di[((long long) b * Hq + h) * Tq + t]);
                float sds = scale * ds;
                float* dkr = dks + lane * P;
                float* dvr = dvs + lane * P;
                for (int d = 0; d < D; d++) {
                    atomicAdd(dvr + d, p * dorow[d]);
                    atomicAdd(dkr + d, sds * qrow[d]);
                }
            }
            dsrow[lane] = ds;
            __syncwarp();
            for (int d = lane; d < D; d += 32) {
                float a = 0.f;
#pragma unroll 8
                for (int jj = 0; jj < ATT_BK; jj++) a = fmaf(dsrow[jj], ks[jj * P + d], a);
                if (a != 0.f) atomicAdd(dq + qBase + d, scale * a);
            }
        }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < ATT_BK * D; idx += blockDim.x) {
        int jj = idx / D, d = idx - jj * D, jk = j0 + jj;
        if (jk >= Tk) continue;
        long long dst = (((long long) b * Tk + jk) * Hkv + kh) * D + d;
        dk[dst] += dks[jj * P + d];
        dv[dst] += dvs[jj * P + d];
    }
}
