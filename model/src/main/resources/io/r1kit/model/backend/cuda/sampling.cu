// Token sampling on the device, one block per row (blockDim a multiple of 32, <= 1024), so only the
// sampled ids cross to the host. logits: [N, V]; uniforms: [N] in [0, 1) (host RNG, so runs are
// reproducible from the sampler's seed); out: [N] token ids.
//   temperature <= 0: greedy (argmax, lowest index on ties).
//   otherwise p ∝ exp((x - max) / temperature), restricted to the top-k logits (topK <= 0 or >= V:
//   all) and then to the smallest top set whose renormalised mass reaches topP (topP >= 1: all),
//   as Hugging Face's TopK then TopP warpers (and r1kit's generate.Sampler, which this mirrors: given
//   uniforms[n] = the Sampler's rng.nextDouble(), both pick the same token up to float rounding).
//   Thresholds are found exactly by bisection over the
//   float bit pattern of the scaled logit (32 block-wide counting passes each), so no sort is needed;
//   logits tied with the threshold are all kept (a sort would keep an arbitrary subset of the tie).
//   The draw takes the first token whose cumulative mass exceeds u * total, walking the kept tokens
//   in the Sampler's order: vocabulary order, except after top-p in descending probability (ties in
//   vocabulary order), where the drawn level is found by one more bisection.
#include "r1kit_common.cuh"

// Order-preserving map from float to unsigned: a < b  <=>  key(a) < key(b) (for non-NaN floats).
__device__ __forceinline__ unsigned int smp_key(float f) {
    unsigned int u = __float_as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Largest key K such that f(K) holds, where f(K) = (block-wide measure of {v : key(s_v) >= K}) >= need;
// f is monotone (true at 0). mode 0 measures a count, mode 1 the mass sum of e_v over kept entries.
__device__ unsigned int smp_bisect(const float* xr, int V, float mx, float invT, unsigned int keepKey, int mode,
                                   float need, float* sh) {
    unsigned int lo = 0u, hi = 0xffffffffu;        // invariant: f(lo) is true
    while (lo < hi) {
        unsigned int mid = lo + (unsigned int) (((unsigned long long) hi - lo + 1ull) >> 1);
        float acc = 0.f;
        for (int i = threadIdx.x; i < V; i += blockDim.x) {
            float s = (xr[i] - mx) * invT;
            unsigned int key = smp_key(s);
            if (key >= mid && key >= keepKey) acc += mode == 0 ? 1.f : expf(s);
        }
        acc = r1_block_sum(acc, sh);
        if (acc >= need) lo = mid; else hi = mid - 1u;
    }
    return lo;
}

// Block-wide minimum of ints; every thread gets the result (shi: 32 ints of __shared__ scratch).
__device__ int smp_block_min(int v, int* shi) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(R1_FULL_MASK, v, o));
    __syncthreads();
    if (lane == 0) shi[wid] = v;
    __syncthreads();
    v = lane < nw ? shi[lane] : 0x7fffffff;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = min(v, __shfl_xor_sync(R1_FULL_MASK, v, o));
    return v;
}

// The draw after top-p, in generate.Sampler's nucleus order (descending probability, ties by id):
// the drawn token's level K is the largest key with mass{key >= K} > target (bisection), then the
// tokens tied at K are walked in vocabulary order from the mass above K.
__device__ void sample_descending(int* out, float* logprob, const float* xr, int n, int V, float mx, float invT,
                                  unsigned int keep, float u, float zRaw, float zT, int logprobMode, float* sh, int* shi) {
    float total = 0.f;   // the same loop as smp_bisect's measure, so f(keep) = total exactly
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float s = (xr[i] - mx) * invT;
        if (smp_key(s) >= keep) total += expf(s);
    }
    total = r1_block_sum(total, sh);
    float target = fminf(u * total, nextafterf(total, 0.f));    // u * total may round up to total
    unsigned int K = smp_bisect(xr, V, mx, invT, keep, 1, nextafterf(target, total), sh);   // ">= next float" is "> target"
    float above = 0.f, ties = 0.f;
    int first = 0x7fffffff;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        unsigned int key = smp_key((xr[i] - mx) * invT);
        if (key > K) above += expf((xr[i] - mx) * invT);
        else if (key == K) { ties += 1.f; first = min(first, i); }
    }
    above = r1_block_sum(above, sh);
    ties = r1_block_sum(ties, sh);
    first = smp_block_min(first, shi);
    if (threadIdx.x != 0) return;
    int pick = first;
    if (ties > 1.f) {            // equal probabilities: in vocabulary order, as the Sampler's sort key
        float run = above;
        for (int i = first; i < V; i++) {
            float s = (xr[i] - mx) * invT;
            if (smp_key(s) != K) continue;
            run += expf(s);
            pick = i;
            if (run > target) break;
        }
    }
    out[n] = pick;
    float sp = (xr[pick] - mx) * invT;
    logprob[n] = logprobMode == 0 ? sp - logf(total) : logprobMode == 1 ? sp - logf(zT) : (xr[pick] - mx) - logf(zRaw);
}

// logprob[n] receives the sampled token's log-probability, as generate.Sampler reports it:
// logprobMode 0 (PROCESSED) = log of its probability among the survivors, 1 (TEMPERATURE) = under the
// temperature-scaled distribution before filtering, 2 (RAW) = under softmax(logits). Greedy rows
// report RAW. minP > 0 keeps only tokens with p >= minP * p_max (applied after top-p, as Sampler).
extern "C" __global__ void sample_top_k_top_p(int* out, float* logprob, const float* logits, const float* uniforms, int N,
                                              int V, float temperature, int topK, float topP, float minP, int logprobMode) {
    __shared__ float sh[32];
    __shared__ float shv[32];
    __shared__ int shi[32];
    __shared__ float chunkSums[1024];
    int n = blockIdx.x;
    if (n >= N) return;
    const float* xr = logits + (long long) n * V;
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    // max and its (lowest) index
    float best = R1_NEG_INF;
    int bestI = 0x7fffffff;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float x = xr[i];
        if (x > best) { best = x; bestI = i; }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(R1_FULL_MASK, best, o);
        int oi = __shfl_xor_sync(R1_FULL_MASK, bestI, o);
        if (ov > best || (ov == best && oi < bestI)) { best = ov; bestI = oi; }
    }
    if (lane == 0) { shv[wid] = best; shi[wid] = bestI; }
    __syncthreads();
    best = lane < nw ? shv[lane] : R1_NEG_INF;
    bestI = lane < nw ? shi[lane] : 0x7fffffff;
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(R1_FULL_MASK, best, o);
        int oi = __shfl_xor_sync(R1_FULL_MASK, bestI, o);
        if (ov > best || (ov == best && oi < bestI)) { best = ov; bestI = oi; }
    }
    float mx = best;
    // normalisers for the reported log-prob: sum exp(x - max) (raw) and sum exp((x - max) / T)
    float invT = temperature > 0.f ? 1.f / temperature : 1.f;
    float zRaw = 0.f, zT = 0.f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        zRaw += expf(xr[i] - mx);
        zT += expf((xr[i] - mx) * invT);
    }
    zRaw = r1_block_sum(zRaw, sh);
    zT = r1_block_sum(zT, sh);
    if (temperature <= 0.f) {
        if (threadIdx.x == 0) {
            out[n] = bestI;
            logprob[n] = -logf(zRaw);               // x_best - lse = -(log sum exp(x - max))
        }
        return;
    }
    unsigned int keep = 0u;
    if (topK > 0 && topK < V) keep = smp_bisect(xr, V, mx, invT, 0u, 0, (float) topK, sh);
    if (topP < 1.f) {
        float kept = 0.f;
        for (int i = threadIdx.x; i < V; i += blockDim.x) {
            float s = (xr[i] - mx) * invT;
            if (smp_key(s) >= keep) kept += expf(s);
        }
        kept = r1_block_sum(kept, sh);
        keep = smp_bisect(xr, V, mx, invT, keep, 1, topP * kept, sh);
    }
    if (minP > 0.f) {                           // e = exp(s) >= minP  <=>  s >= log(minP)
        unsigned int mk = smp_key(logf(minP));
        if (mk > keep) keep = mk;               // the argmax (s = 0) always survives: minP <= 1
    }
    if (topP < 1.f) {
        sample_descending(out, logprob, xr, n, V, mx, invT, keep, uniforms[n], zRaw, zT, logprobMode, sh, shi);
        return;
    }
    // draw: each thread owns a contiguous chunk of the vocabulary
    int chunk = (V + blockDim.x - 1) / blockDim.x;
    int c0 = min(V, (int) threadIdx.x * chunk), c1 = min(V, c0 + chunk);
    float mine = 0.f;
    for (int i = c0; i < c1; i++) {
        float s = (xr[i] - mx) * invT;
        if (smp_key(s) >= keep) mine += expf(s);
    }
    chunkSums[threadIdx.x] = mine;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0.f;
        for (int i = 0; i < (int) blockDim.x; i++) total += chunkSums[i];
        float target = uniforms[n] * total, run = 0.f;
        int pick = bestI;                       // fallback if rounding leaves the target uncovered
        for (int c = 0; c < (int) blockDim.x; c++) {
            if (run + chunkSums[c] <= target || chunkSums[c] == 0.f) { run += chunkSums[c]; continue; }
            int i0 = min(V, c * chunk), i1 = min(V, i0 + chunk);
            for (int i = i0; i < i1; i++) {
                float s = (xr[i] - mx) * invT;
                if (smp_key(s) < keep) continue;
                run += expf(s);
                pick = i;
                if (run > target) break;
            }
            break;
        }
        out[n] = pick;
        float sp = (xr[pick] - mx) * invT;
        logprob[n] = logprobMode == 0 ? sp - logf(total) : logprobMode == 1 ? sp - logf(zT) : (xr[pick] - mx) - logf(zRaw);
    }
}
