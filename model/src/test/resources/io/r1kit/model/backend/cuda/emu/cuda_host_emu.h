// A tiny host emulation of the CUDA features r1kit's kernels use, so the REAL kernel sources can be
// compiled with g++ and run on the CPU by the test suite (machines without a GPU): every thread of
// a block is an OS thread, __syncthreads is a block barrier, warp shuffles exchange through a
// per-warp slot array between two warp barriers, atomics are std::atomic_ref. Blocks run one after
// another, so `__shared__` (mapped to `static`) is per block. It checks kernel LOGIC (indexing,
// tiling, masking, reductions, synchronisation pattern); it says nothing about performance or about
// hardware-specific behaviour (memory model subtleties, bank conflicts).
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

struct r1_dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local r1_dim3 threadIdx, blockIdx;
inline r1_dim3 blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct r1_warp_state {
    std::barrier<> bar{32};
    std::uint64_t slot[32];
};
inline thread_local r1_warp_state* r1_warp = nullptr;
inline thread_local int r1_lane = 0;
inline std::barrier<>* r1_block_barrier = nullptr;
inline std::vector<float> r1_dynamic_smem;

inline void __syncthreads() { r1_block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { r1_warp->bar.arrive_and_wait(); }

template <class T> inline T r1_exchange(T v, int src) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    r1_warp->slot[r1_lane] = bits;
    r1_warp->bar.arrive_and_wait();
    std::uint64_t got = r1_warp->slot[src & 31];
    r1_warp->bar.arrive_and_wait();
    T r;
    std::memcpy(&r, &got, sizeof(T));
    return r;
}
template <class T> inline T __shfl_xor_sync(unsigned, T v, int o) { return r1_exchange(v, r1_lane ^ o); }
template <class T> inline T __shfl_sync(unsigned, T v, int src) { return r1_exchange(v, src); }

inline float atomicAdd(float* a, float v) { return std::atomic_ref<float>(*a).fetch_add(v); }

inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

// Runs kernel(args...) over the grid: one team of `block` OS threads walks the blocks in order,
// with a barrier between blocks, so each block still runs alone (per-block `__shared__` statics).
template <class F> void r1_launch(F kernel, r1_dim3 grid, unsigned block, size_t smemBytes) {
    gridDim = grid;
    blockDim = r1_dim3{block, 1, 1};
    r1_dynamic_smem.assign(smemBytes / 4 + 1, 0.f);
    std::barrier<> blockBar(block), endOfBlock(block);
    r1_block_barrier = &blockBar;
    std::vector<r1_warp_state> warps((block + 31) / 32);
    std::vector<std::thread> threads;
    threads.reserve(block);
    for (unsigned t = 0; t < block; t++) {
        threads.emplace_back([&, t] {
            threadIdx = r1_dim3{t, 0, 0};
            r1_warp = &warps[t / 32];
            r1_lane = (int) (t % 32);
            for (unsigned bz = 0; bz < grid.z; bz++)
                for (unsigned by = 0; by < grid.y; by++)
                    for (unsigned bx = 0; bx < grid.x; bx++) {
                        blockIdx = r1_dim3{bx, by, bz};
                        kernel();
                        endOfBlock.arrive_and_wait();   // the block is done before the next starts
                    }
        });
    }
    for (auto& th : threads) th.join();
}
