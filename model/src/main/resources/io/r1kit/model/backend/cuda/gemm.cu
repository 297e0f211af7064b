// r1kit's own GEMMs, used when cuBLAS cannot be loaded. Row-major, as Backend.gemmBatched:
//   C[b] (M x N) = alpha * op(A[b]) op(B[b]) + beta * C[b],  b = blockIdx.z,
// op(A) is M x K (A stored [M,K], or [K,M] when transA), op(B) is K x N (B stored [K,N], or [N,K]
// when transB); operand b starts at X + b * strideX (stride 0 broadcasts). beta == 0 overwrites C
// (a NaN already in C does not propagate). Accumulation is fp32 in every kernel.
//
// gemm_f32_simt / gemm_bf16_simt: the plain tiled SIMT kernel (64x64 output tile per 256-thread
// block, 4x4 outputs per thread, K in steps of 16 through shared memory) for fp32 or bf16 operands;
// it is the reference the tensor-core kernel is checked against and the fp32 path.
// gemm_bf16_mma: bf16 operands on the tensor cores through mma.sync.m16n8k16 (sm_80+): a 64x64
// output tile per 128-thread block, each of the 4 warps owning 32x32 (2 x 4 mma tiles). Without
// __CUDA_ARCH__ >= 800 (the g++ host emulation) the same fragment layout is multiplied through warp
// shuffles, so the emulation checks the fragment indexing that the hardware instruction consumes.
// Launch: grid (ceil(N/64), ceil(M/64), batch); block 256 (SIMT) or 128 (mma); no dynamic shared memory.
#include "r1kit_common.cuh"

#define R1_GEMM_TILE 64
#define R1_GEMM_KT 16

__device__ __forceinline__ float r1_gemm_ld(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float r1_gemm_ld(const bf16_t* p, long long i) { return r1_bf16_to_f32(p[i]); }

// op(A)[m][k] and op(B)[k][n] for the row-major layouts above.
template <class T> __device__ __forceinline__ float r1_gemm_a(const T* A, int transA, int M, int K, int m, int k) {
    return (m < M && k < K) ? r1_gemm_ld(A, transA ? (long long) k * M + m : (long long) m * K + k) : 0.f;
}
template <class T> __device__ __forceinline__ float r1_gemm_b(const T* B, int transB, int K, int N, int k, int n) {
    return (k < K && n < N) ? r1_gemm_ld(B, transB ? (long long) n * K + k : (long long) k * N + n) : 0.f;
}

__device__ __forceinline__ void r1_gemm_store(float* C, int M, int N, int m, int n, float acc, float alpha, float beta) {
    if (m >= M || n >= N) return;
    long long i = (long long) m * N + n;
    C[i] = beta == 0.f ? alpha * acc : fmaf(beta, C[i], alpha * acc);
}

template <class T>
__device__ __forceinline__ void r1_gemm_simt(int transA, int transB, int M, int N, int K, float alpha, const T* A,
                                             long long strideA, const T* B, long long strideB, float beta, float* C,
                                             long long strideC) {
    __shared__ float As[R1_GEMM_KT][R1_GEMM_TILE + 4];   // [k][m]
    __shared__ float Bs[R1_GEMM_KT][R1_GEMM_TILE + 4];   // [k][n]
    A += blockIdx.z * strideA;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    int m0 = blockIdx.y * R1_GEMM_TILE, n0 = blockIdx.x * R1_GEMM_TILE;
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;     // 16 x 16 threads, 4 x 4 outputs each
    float acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    for (int k0 = 0; k0 < K; k0 += R1_GEMM_KT) {
        // 64 x 16 elements of each operand, 4 per thread
        for (int e = threadIdx.x; e < R1_GEMM_TILE * R1_GEMM_KT; e += 256) {
            int r = e / R1_GEMM_KT, kk = e % R1_GEMM_KT;
            As[kk][r] = r1_gemm_a(A, transA, M, K, m0 + r, k0 + kk);
            Bs[kk][r] = r1_gemm_b(B, transB, K, N, k0 + kk, n0 + r);
        }
        __syncthreads();
        for (int kk = 0; kk < R1_GEMM_KT; kk++) {
            float a[4], b[4];
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) r1_gemm_store(C, M, N, m0 + ty + 16 * i, n0 + tx + 16 * j, acc[i][j], alpha, beta);
}

extern "C" __global__ void __launch_bounds__(256) gemm_f32_simt(int transA, int transB, int M, int N, int K, float alpha,
                                                                const float* A, long long strideA, const float* B,
                                                                long long strideB, float beta, float* C, long long strideC) {
    r1_gemm_simt<float>(transA, transB, M, N, K, alpha, A, strideA, B, strideB, beta, C, strideC);
}

extern "C" __global__ void __launch_bounds__(256) gemm_bf16_simt(int transA, int transB, int M, int N, int K, float alpha,
                                                                 const bf16_t* A, long long strideA, const bf16_t* B,
                                                                 long long strideB, float beta, float* C, long long strideC) {
    r1_gemm_simt<bf16_t>(transA, transB, M, N, K, alpha, A, strideA, B, strideB, beta, C, strideC);
}

// Two bf16 in one 32-bit register: lo is the element with the lower k.
__device__ __forceinline__ unsigned r1_pack_bf16(bf16_t lo, bf16_t hi) {
    return (unsigned) lo | ((unsigned) hi << 16);
}

// d[0..3] += A (16x16, row) * B (16x8, col) for one warp, in the register layout of
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (g = lane / 4, t = lane % 4):
//   a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..2t+1], a[2] = A[g][2t+8..2t+9], a[3] = A[g+8][2t+8..2t+9]
//   b[0] = B[2t..2t+1][g], b[1] = B[2t+8..2t+9][g]
//   d[0] = D[g][2t], d[1] = D[g][2t+1], d[2] = D[g+8][2t], d[3] = D[g+8][2t+1]
__device__ __forceinline__ void r1_mma_16816(float* d, const unsigned* a, const unsigned* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
    // The same product from the same fragments (host emulation): each lane fetches, by warp shuffles,
    // the A fragments of the 4 lanes holding its rows g, g+8 (lanes 4g..4g+3) and the B fragments of
    // the 8 lanes holding its columns 2t, 2t+1 (lanes 8t..8t+7), then multiplies in fp32.
    int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    float a0[16], a1[16], b0[16], b1[16];      // A[g][k], A[g+8][k], B[k][2t], B[k][2t+1]
    for (int st = 0; st < 4; st++) {
        unsigned long long lo = __shfl_sync(R1_FULL_MASK, (unsigned long long) a[0] | ((unsigned long long) a[1] << 32), 4 * g + st);
        unsigned long long hi = __shfl_sync(R1_FULL_MASK, (unsigned long long) a[2] | ((unsigned long long) a[3] << 32), 4 * g + st);
        for (int j = 0; j < 2; j++) {
            a0[2 * st + j] = r1_bf16_to_f32((bf16_t) (lo >> (16 * j)));
            a1[2 * st + j] = r1_bf16_to_f32((bf16_t) (lo >> (32 + 16 * j)));
            a0[2 * st + 8 + j] = r1_bf16_to_f32((bf16_t) (hi >> (16 * j)));
            a1[2 * st + 8 + j] = r1_bf16_to_f32((bf16_t) (hi >> (32 + 16 * j)));
        }
    }
    for (int src = 0; src < 8; src++) {          // lane 8t + src holds column 2t + src / 4 at k = 2 (src % 4) (+8)
        unsigned long long v = __shfl_sync(R1_FULL_MASK, (unsigned long long) b[0] | ((unsigned long long) b[1] << 32), 8 * t + src);
        float* col = src < 4 ? b0 : b1;
        int st = src & 3;
        for (int j = 0; j < 2; j++) {
            col[2 * st + j] = r1_bf16_to_f32((bf16_t) (v >> (16 * j)));
            col[2 * st + 8 + j] = r1_bf16_to_f32((bf16_t) (v >> (32 + 16 * j)));
        }
    }
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    for (int k = 0; k < 16; k++) {
        acc[0] = fmaf(a0[k], b0[k], acc[0]);
        acc[1] = fmaf(a0[k], b1[k], acc[1]);
        acc[2] = fmaf(a1[k], b0[k], acc[2]);
        acc[3] = fmaf(a1[k], b1[k], acc[3]);
    }
    for (int i = 0; i < 4; i++) d[i] += acc[i];
#endif
}

extern "C" __global__ void __launch_bounds__(128) gemm_bf16_mma(int transA, int transB, int M, int N, int K, float alpha,
                                                                const bf16_t* A, long long strideA, const bf16_t* B,
                                                                long long strideB, float beta, float* C, long long strideC) {
    // As[m][k] and Bs[n][k]: a fragment's two k-adjacent values are neighbours; +8 padding staggers banks.
    __shared__ bf16_t As[R1_GEMM_TILE][R1_GEMM_KT + 8];
    __shared__ bf16_t Bs[R1_GEMM_TILE][R1_GEMM_KT + 8];
    A += blockIdx.z * strideA;
    B += blockIdx.z * strideB;
    C += blockIdx.z * strideC;
    int m0 = blockIdx.y * R1_GEMM_TILE, n0 = blockIdx.x * R1_GEMM_TILE;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;      // the warp's 32 x 32 sub-tile
    float acc[2][4][4];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0.f;
    for (int k0 = 0; k0 < K; k0 += R1_GEMM_KT) {
        for (int e = threadIdx.x; e < R1_GEMM_TILE * R1_GEMM_KT; e += 128) {
            int r = e / R1_GEMM_KT, kk = e % R1_GEMM_KT;
            int m = m0 + r, n = n0 + r, k = k0 + kk;
            As[r][kk] = (m < M && k < K) ? A[transA ? (long long) k * M + m : (long long) m * K + k] : (bf16_t) 0;
            Bs[r][kk] = (k < K && n < N) ? B[transB ? (long long) n * K + k : (long long) k * N + n] : (bf16_t) 0;
        }
        __syncthreads();
        unsigned a[2][4], b[4][2];
        for (int i = 0; i < 2; i++) {
            int r = wm + 16 * i + g;
            a[i][0] = r1_pack_bf16(As[r][2 * t], As[r][2 * t + 1]);
            a[i][1] = r1_pack_bf16(As[r + 8][2 * t], As[r + 8][2 * t + 1]);
            a[i][2] = r1_pack_bf16(As[r][2 * t + 8], As[r][2 * t + 9]);
            a[i][3] = r1_pack_bf16(As[r + 8][2 * t + 8], As[r + 8][2 * t + 9]);
        }
        for (int j = 0; j < 4; j++) {
            int c = wn + 8 * j + g;
            b[j][0] = r1_pack_bf16(Bs[c][2 * t], Bs[c][2 * t + 1]);
            b[j][1] = r1_pack_bf16(Bs[c][2 * t + 8], Bs[c][2 * t + 9]);
        }
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++) r1_mma_16816(acc[i][j], a[i], b[j]);
        __syncthreads();
    }
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 4; j++) {
            int m = m0 + wm + 16 * i + g, n = n0 + wn + 8 * j + 2 * t;
            r1_gemm_store(C, M, N, m, n, acc[i][j][0], alpha, beta);
            r1_gemm_store(C, M, N, m, n + 1, acc[i][j][1], alpha, beta);
            r1_gemm_store(C, M, N, m + 8, n, acc[i][j][2], alpha, beta);
            r1_gemm_store(C, M, N, m + 8, n + 1, acc[i][j][3], alpha, beta);
        }
    }
}
