// Runs a job of kernel launches (written by EmulatedKernelsTest) on the host emulation of CUDA.
// Job file (little-endian): int nBuffers, then per buffer {long bytes, bytes}; int nLaunches, then
// per launch {int nameLen, name, int gx, gy, gz, block, smem, int nArgs, args}; an arg is
// {int tag; 0: int buffer (-1 = nullptr), long byteOffset | 1: int | 2: long | 3: float}.
// Writes every buffer back to the output file in the same layout.
#include "cuda_host_emu.h"
#include "elementwise.cu"
#include "embedding.cu"
#include "rmsnorm.cu"
#include "rope_swiglu.cu"
#include "softmax.cu"
#include "attention.cu"
#include "adamw.cu"
#include "sampling.cu"
#include "kvcache.cu"
#include "loss.cu"
#include "gemm.cu"
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

struct Arg { int tag = 0, buf = -1, i = 0; long long off = 0, l = 0; float f = 0; };
static std::vector<std::vector<char>> bufs;

template <class T> T conv(const Arg& a) {
    if constexpr (std::is_pointer_v<T>) {
        if (a.tag != 0) throw std::runtime_error("pointer parameter got a scalar");
        if (a.buf < 0) return nullptr;
        if (a.off < 0 || (size_t) a.off > bufs.at(a.buf).size()) throw std::runtime_error("offset outside buffer");
        return reinterpret_cast<T>(bufs.at(a.buf).data() + a.off);
    } else if constexpr (std::is_same_v<T, int>) {
        if (a.tag != 1) throw std::runtime_error("int parameter got another kind");
        return a.i;
    } else if constexpr (std::is_same_v<T, long long>) {
        if (a.tag != 2) throw std::runtime_error("long long parameter got another kind");
        return a.l;
    } else {
        static_assert(std::is_same_v<T, float>);
        if (a.tag != 3) throw std::runtime_error("float parameter got another kind");
        return a.f;
    }
}

template <class... A, size_t... I>
void callImpl(void (*f)(A...), const std::vector<Arg>& args, std::index_sequence<I...>, r1_dim3 g, unsigned b, size_t s) {
    if (args.size() != sizeof...(A)) throw std::runtime_error("wrong argument count");
    auto tup = std::make_tuple(conv<A>(args[I])...);
    r1_launch([&] { std::apply(f, tup); }, g, b, s);
}

template <class... A> void call(void (*f)(A...), const std::vector<Arg>& args, r1_dim3 g, unsigned b, size_t s) {
    callImpl(f, args, std::index_sequence_for<A...>{}, g, b, s);
}

#define K(name) {#name, [](const std::vector<Arg>& a, r1_dim3 g, unsigned b, size_t s) { call(name, a, g, b, s); }}
static const std::map<std::string, std::function<void(const std::vector<Arg>&, r1_dim3, unsigned, size_t)>> KERNELS = {
    K(add_f32), K(mul_f32), K(axpy_f32), K(scale_f32), K(sum_partials_f32), K(sum_finish_f64), K(clip_scale_f32),
    K(masked_sum_partials_f32), K(f32_to_bf16), K(bf16_to_f32), K(copy2d_f32), K(embedding_fwd), K(embedding_bwd), K(rmsnorm_fwd),
    K(rmsnorm_bwd_dx), K(rmsnorm_bwd_dw), K(rope_f32), K(swiglu_fwd), K(swiglu_bwd), K(softmax_fwd), K(softmax_bwd),
    K(log_softmax_fwd), K(log_softmax_bwd), K(token_logprobs_fwd), K(token_logprobs_bwd), K(entropy_fwd), K(entropy_bwd),
    K(attention_fwd), K(attention_bwd_dot), K(attention_bwd), K(adamw_f32), K(adamw_bf16), K(sample_top_k_top_p),
    K(kv_append), K(kv_gather), K(unary_fwd), K(unary_bwd), K(binary_fwd), K(binary_bwd), K(where_fwd), K(where_bwd),
    K(masked_reduce_fwd), K(masked_reduce_bwd), K(gemm_f32_simt), K(gemm_bf16_simt), K(gemm_bf16_mma)};

template <class T> static T rd(FILE* f) {
    T v;
    if (fread(&v, sizeof v, 1, f) != 1) throw std::runtime_error("truncated job file");
    return v;
}

int main(int argc, char** argv) {
    if (argc != 3) { fprintf(stderr, "usage: runner job out\n"); return 2; }
    try {
        FILE* in = fopen(argv[1], "rb");
        if (!in) throw std::runtime_error("cannot open job");
        int nb = rd<int>(in);
        bufs.resize(nb);
        for (int i = 0; i < nb; i++) {
            long long n = rd<long long>(in);
            bufs[i].resize(n);
            if (n > 0 && fread(bufs[i].data(), 1, n, in) != (size_t) n) throw std::runtime_error("truncated buffer");
        }
        int nl = rd<int>(in);
        for (int l = 0; l < nl; l++) {
            int len = rd<int>(in);
            std::string name(len, '\0');
            if (fread(name.data(), 1, len, in) != (size_t) len) throw std::runtime_error("truncated name");
            r1_dim3 g;
            g.x = rd<int>(in); g.y = rd<int>(in); g.z = rd<int>(in);
            unsigned block = rd<int>(in);
            size_t smem = rd<int>(in);
            int na = rd<int>(in);
            std::vector<Arg> args(na);
            for (auto& a : args) {
                a.tag = rd<int>(in);
                if (a.tag == 0) { a.buf = rd<int>(in); a.off = rd<long long>(in); }
                else if (a.tag == 1) a.i = rd<int>(in);
                else if (a.tag == 2) a.l = rd<long long>(in);
                else a.f = rd<float>(in);
            }
            auto k = KERNELS.find(name);
            if (k == KERNELS.end()) throw std::runtime_error("unknown kernel " + name);
            k->second(args, g, block, smem);
        }
        fclose(in);
        FILE* out = fopen(argv[2], "wb");
        fwrite(&nb, sizeof nb, 1, out);
        for (auto& b : bufs) {
            long long n = (long long) b.size();
            fwrite(&n, sizeof n, 1, out);
            fwrite(b.data(), 1, b.size(), out);
        }
        fclose(out);
    } catch (const std::exception& e) {
        fprintf(stderr, "runner: %s\n", e.what());
        return 1;
    }
    return 0;
}
