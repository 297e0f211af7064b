package io.r1kit.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.cuda.CachingAllocator;
import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.backend.cuda.CudaDeviceBackend;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.tensor.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code bin/r1kit bench --device cuda[:N]}: GEMM TFLOPS (bf16 operands already on the device,
 * fp32 accumulation) next to the device's bf16 dense peak, causal flash attention forward and
 * backward time, and, for a Hugging Face model directory ({@code --model}), training tokens/s with
 * the model's parameters on the device (forward, cross-entropy, backward, clipping, AdamW) and
 * decode tokens/s, plus the caching allocator's peak memory. Kernel times are CUDA events on the
 * backend's stream; the training and decode rates are wall clock, synchronised by the loss / the
 * sampled tokens reaching the host.
 *
 * <p>Decode runs the {@code Generator} with the model on the device (KV cache, attention, lm head
 * and sampling there; per step only ids in and sampled ids / log-probs out). Never run on a GPU
 * yet (this code was written on a machine without one).
 */
final class CudaBench {
    private CudaBench() {}

    record Options(boolean quick, int repeats, Path model, int batch, int seqLen, int decodeTokens) {}

    static ObjectNode run(CudaBackend backend, Options o, ObjectNode root, PrintStream log) throws IOException {
        CudaDeviceBackend dev = new CudaDeviceBackend(backend);
        String name = dev.device().name;
        Double peak = GpuPeaks.bf16DenseTflops(name);
        ObjectNode cuda = root.putObject("cuda");
        cuda.put("device", name).put("compute_capability", dev.device().computeCapability)
                .put("memory_bytes", dev.device().totalMemory);
        if (peak != null) cuda.put("bf16_dense_peak_tflops", peak); else cuda.putNull("bf16_dense_peak_tflops");
        log.println("r1kit bench on " + backend.name() + " (" + name + ", bf16 dense peak " + (peak == null ? "unknown" : peak + " TFLOPS") + ")");
        CausalLM model = o.model() == null ? null : CausalLM.load(o.model());
        ModelConfig cfg = model == null ? null : model.config();

        ArrayNode gemm = cuda.putArray("gemm_bf16");
        for (int[] s : gemmShapes(cfg, o)) {
            double ms = gemmMs(dev, s[0], s[1], s[2], o.repeats());
            double tflops = 2.0 * s[0] * s[1] * s[2] / (ms * 1e-3) / 1e12;
            ObjectNode r = gemm.addObject().put("m", s[0]).put("n", s[1]).put("k", s[2]).put("ms", BenchMain.round(ms))
                    .put("tflops", BenchMain.round(tflops));
            if (peak != null) r.put("fraction_of_peak", BenchMain.round(tflops / peak));
            log.printf(Locale.ROOT, "gemm bf16 %5dx%5dx%5d  %8.3f ms  %7.1f TFLOPS%s%n", s[0], s[1], s[2], ms, tflops,
                    peak == null ? "" : String.format(Locale.ROOT, "  (%.0f%% of peak)", 100 * tflops / peak));
        }

        int hq = cfg == null ? 16 : cfg.numHeads(), hkv = cfg == null ? 8 : cfg.numKvHeads(), d = cfg == null ? 128 : cfg.headDim();
        ArrayNode att = cuda.putArray("attention");
        for (int t : o.quick() ? new int[] {1024} : new int[] {1024, 2048, 4096}) {
            double[] fb = attentionMs(dev, 1, t, hq, hkv, d, o.repeats());
            double fwdFlops = 2.0 * hq * (double) t * t * d;   // causal: QK^T and PV, half of 4·T²·D per head
            att.addObject().put("b", 1).put("t", t).put("hq", hq).put("hkv", hkv).put("d", d)
                    .put("forward_ms", BenchMain.round(fb[0])).put("backward_ms", BenchMain.round(fb[1]))
                    .put("forward_tflops", BenchMain.round(fwdFlops / (fb[0] * 1e-3) / 1e12))
                    .put("backward_tflops", BenchMain.round(2.5 * fwdFlops / (fb[1] * 1e-3) / 1e12));
            log.printf(Locale.ROOT, "attention B=1 T=%d Hq=%d Hkv=%d D=%d  fwd %.3f ms  bwd %.3f ms%n", t, hq, hkv, d, fb[0], fb[1]);
        }

        if (model == null) {
            cuda.put("training", "skipped: no --model DIR").put("decode", "skipped: no --model DIR");
        } else {
            dev.resetPeakMemory();
            double trainTps = trainingTokensPerSecond(model, dev, o, log);
            CachingAllocator.Stats st = dev.memoryStats();
            cuda.putObject("training").put("batch", o.batch()).put("seq_len", o.seqLen())
                    .put("tokens_per_second", BenchMain.round(trainTps)).put("peak_in_use_bytes", st.peakInUse())
                    .put("reserved_bytes", st.reserved()).put("device_allocs", st.deviceAllocs()).put("cache_hits", st.cacheHits());
            double decTps = decodeTokensPerSecond(model, o);   // the model stays on the device
            model.moveToHost();
            cuda.putObject("decode").put("path", "device-resident (KV cache, attention, lm head and sampling on the device)")
                    .put("batch", o.batch()).put("new_tokens", o.decodeTokens()).put("tokens_per_second", BenchMain.round(decTps));
            log.printf(Locale.ROOT, "training %.1f tok/s (peak device memory %,d B)  decode (on the device) %.1f tok/s%n",
                    trainTps, st.peakInUse(), decTps);
        }
        CachingAllocator.Stats st = dev.memoryStats();
        cuda.putObject("memory").put("peak_in_use_bytes", st.peakInUse()).put("reserved_bytes", st.reserved())
                .put("cached_bytes", st.cached()).put("device_allocs", st.deviceAllocs()).put("cache_hits", st.cacheHits());
        return cuda;
    }

    /** [M, N, K] of the model's projections at batch·seqLen tokens, or square defaults. */
    static List<int[]> gemmShapes(ModelConfig c, Options o) {
        List<int[]> s = new ArrayList<>();
        if (c == null) {
            s.add(new int[] {4096, 4096, 4096});
            if (!o.quick()) { s.add(new int[] {8192, 8192, 8192}); s.add(new int[] {4096, 11008, 4096}); }
            return s;
        }
        int tok = o.batch() * o.seqLen(), C = c.hiddenSize();
        s.add(new int[] {tok, c.numHeads() * c.headDim(), C});   // q_proj
        s.add(new int[] {tok, c.intermediateSize(), C});          // gate / up
        s.add(new int[] {tok, C, c.intermediateSize()});          // down
        if (!o.quick()) s.add(new int[] {tok, c.vocabSize(), C}); // lm_head
        return s;
    }

    /** Mean ms of {@code reps} back-to-back calls after one warm-up call (one pair of events brackets all of them). */
    static double gemmMs(CudaDeviceBackend dev, int M, int N, int K, int reps) {
        try (DeviceArray a = dev.alloc(ElementType.F32, (long) M * K); DeviceArray b = dev.alloc(ElementType.F32, (long) K * N);
             DeviceArray c = dev.alloc(ElementType.F32, (long) M * N)) {
            dev.fill(a, 0.01f, (long) M * K);
            dev.fill(b, 0.02f, (long) K * N);
            try (DeviceArray a16 = dev.castToBf16(a, 0, (long) M * K); DeviceArray b16 = dev.castToBf16(b, 0, (long) K * N)) {
                dev.gemmBf16(false, true, M, N, K, 1f, a16, b16, 0f, c);   // warm-up (cuBLAS heuristics, clocks)
                return dev.timeMs(() -> {
                    for (int i = 0; i < reps; i++) dev.gemmBf16(false, true, M, N, K, 1f, a16, b16, 0f, c);
                }) / reps;
            }
        }
    }

    /** {forward ms, backward ms} of causal attention q [B,T,Hq,D], k/v [B,T,Hkv,D]. */
    static double[] attentionMs(CudaDeviceBackend dev, int B, int T, int Hq, int Hkv, int D, int reps) {
        long nq = (long) B * T * Hq * D, nk = (long) B * T * Hkv * D;
        float scale = (float) (1 / Math.sqrt(D));
        List<DeviceArray> bufs = new ArrayList<>();
        try {
            DeviceArray q = add(bufs, dev.alloc(ElementType.F32, nq)), k = add(bufs, dev.alloc(ElementType.F32, nk));
            DeviceArray v = add(bufs, dev.alloc(ElementType.F32, nk)), out = add(bufs, dev.alloc(ElementType.F32, nq));
            DeviceArray lse = add(bufs, dev.alloc(ElementType.F32, (long) B * Hq * T)), dout = add(bufs, dev.alloc(ElementType.F32, nq));
            DeviceArray dq = add(bufs, dev.alloc(ElementType.F32, nq)), dk = add(bufs, dev.alloc(ElementType.F32, nk));
            DeviceArray dv = add(bufs, dev.alloc(ElementType.F32, nk));
            dev.fill(q, 0.1f, nq);
            dev.fill(k, 0.2f, nk);
            dev.fill(v, 0.3f, nk);
            dev.fill(dout, 1f, nq);
            Runnable fwd = () -> dev.attentionForward(out, lse, q, k, v, null, B, T, T, Hq, Hkv, D, 0, scale);
            Runnable bwd = () -> dev.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, null, B, T, T, Hq, Hkv, D, 0, scale);
            fwd.run();
            bwd.run();
            double f = dev.timeMs(() -> { for (int i = 0; i < reps; i++) fwd.run(); }) / reps;
            double b = dev.timeMs(() -> { for (int i = 0; i < reps; i++) bwd.run(); }) / reps;
            return new double[] {f, b};
        } finally {
            bufs.forEach(DeviceArray::close);
        }
    }

    private static DeviceArray add(List<DeviceArray> l, DeviceArray a) {
        l.add(a);
        return a;
    }

    /** Steps of forward + cross-entropy + backward + clip + AdamW with the parameters on the device; one warm-up step. */
    static double trainingTokensPerSecond(CausalLM model, DeviceBackend dev, Options o, PrintStream log) {
        model.moveTo(dev);
        AdamW opt = new AdamW(model.parameters(), AdamW.Config.defaults(1e-5f));
        int n = o.batch() * o.seqLen(), V = model.config().vocabSize();
        SplittableRandom r = new SplittableRandom(1);
        int steps = o.quick() ? 3 : 10;
        long t0 = 0;
        for (int s = 0; s <= steps; s++) {
            if (s == 1) t0 = System.nanoTime();                // step 0 compiles the kernels: not timed
            int[] ids = new int[n], tg = new int[n];
            for (int i = 0; i < n; i++) { ids[i] = r.nextInt(V); tg[i] = r.nextInt(V); }
            opt.zeroGrad();
            Tensor loss = F.crossEntropy(model.forward(ids, o.batch(), o.seqLen(), null, null), tg);
            loss.backward();
            GradClip.clipGlobalNorm(model.parameters(), 1.0);
            opt.step();
            float l = loss.item();                              // synchronises: the step has run
            if (s == 0) log.printf(Locale.ROOT, "training warm-up step: loss %.4f, transfers %s%n", l, dev.transfers());
        }
        return (double) n * steps / ((System.nanoTime() - t0) * 1e-9);
    }

    /**
     * Generated tokens/s of greedy decoding with the model on its device (Generator's device path:
     * per step only ids in and sampled ids / log-probs out), one warm-up call. Wall clock: each
     * step ends by reading the sampled ids, so the rate includes the device work.
     */
    static double decodeTokensPerSecond(CausalLM model, Options o) {
        int V = model.config().vocabSize();
        SplittableRandom r = new SplittableRandom(2);
        List<int[]> prompts = new ArrayList<>();
        for (int b = 0; b < o.batch(); b++) prompts.add(r.ints(16, 0, V).toArray());
        try (var ng = Grad.noGrad()) {
            Generator g = new Generator(model);
            g.generate(prompts, SamplingParams.greedy(4));
            long t0 = System.nanoTime();
            int tokens = g.generate(prompts, SamplingParams.greedy(o.decodeTokens())).stream().mapToInt(c -> c.tokens().length).sum();
            return tokens / ((System.nanoTime() - t0) * 1e-9);
        }
    }

    /** The text form of the "cuda" section (stdout without --json). */
    static String render(ObjectNode c) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "device %s (sm_%d), bf16 dense peak %s TFLOPS%n", c.get("device").asText(),
                c.get("compute_capability").asInt(), c.get("bf16_dense_peak_tflops").isNull() ? "unknown" : c.get("bf16_dense_peak_tflops").asText()));
        sb.append(String.format(Locale.ROOT, "%ngemm, bf16 operands, fp32 accumulation%n  %6s %6s %6s %10s %9s %8s%n", "m", "n", "k", "ms", "TFLOPS", "of peak"));
        for (var r : c.get("gemm_bf16"))
            sb.append(String.format(Locale.ROOT, "  %6d %6d %6d %10.3f %9.1f %8s%n", r.get("m").asInt(), r.get("n").asInt(), r.get("k").asInt(),
                    r.get("ms").asDouble(), r.get("tflops").asDouble(), r.has("fraction_of_peak") ? Math.round(100 * r.get("fraction_of_peak").asDouble()) + "%" : "-"));
        sb.append(String.format(Locale.ROOT, "%nattention, causal, B=1%n  %5s %4s %4s %4s %10s %10s%n", "T", "Hq", "Hkv", "D", "fwd ms", "bwd ms"));
        for (var r : c.get("attention"))
            sb.append(String.format(Locale.ROOT, "  %5d %4d %4d %4d %10.3f %10.3f%n", r.get("t").asInt(), r.get("hq").asInt(), r.get("hkv").asInt(),
                    r.get("d").asInt(), r.get("forward_ms").asDouble(), r.get("backward_ms").asDouble()));
        sb.append(String.format(Locale.ROOT, "%ntraining: %s%ndecode: %s%nmemory: %s%n", c.get("training"), c.get("decode"), c.get("memory")));
        return sb.toString();
    }
}
