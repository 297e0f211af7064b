package io.r1kit.model.generate;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DecoderLayer;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoder on the device for generation: Tnew new tokens for each row of a {@link DeviceKvCache},
 * written at one common slot, attending to the cached prefix (qStart = slot). The math of
 * {@link DecodeStep} / {@code DecoderLayer.forward} on raw {@link DeviceArray}s with the
 * {@link DeviceBackend} kernels, so nothing is copied to the host: prefill is the call with
 * slot 0 and Tnew = T, a decode step the call with Tnew = 1. Weights are the model's device
 * arrays; a parameter left on the host fails loudly ({@code Tensor.deviceArray}).
 */
final class DeviceForward {
    final CausalLM model;
    final DeviceBackend dev;
    private final ModelConfig c;
    private final DeviceArray cos, sin;   // rope tables [maxPos, D/2], uploaded once

    DeviceForward(CausalLM model) {
        this.model = model;
        this.dev = model.device();
        for (Parameter p : model.parameters()) {
            if (p.device() != dev)
                throw new IllegalArgumentException("generate: parameter " + p.name() + " is on " + (p.device() == null ? "the host"
                        : p.device().name()) + ", the model on " + dev.name() + " (move the whole model)");
        }
        this.c = model.config();
        float[] hc = model.ropeTables().cos(), hs = model.ropeTables().sin();
        cos = dev.upload(hc, 0, hc.length, "rope cos table");
        sin = dev.upload(hs, 0, hs.length, "rope sin table");
    }

    ModelConfig config() { return c; }

    /**
     * ids, pos: I32 [B·Tnew] (B = cache.rows()); appends every layer's k/v at slots
     * [slot, slot+Tnew) and returns the final-normed hidden states F32 [B·Tnew, C] (caller closes).
     */
    DeviceArray hidden(DeviceKvCache cache, DeviceArray ids, DeviceArray pos, int Tnew, int slot) {
        int C = c.hiddenSize(), Hq = c.numHeads(), Hkv = c.numKvHeads(), D = c.headDim(), I = c.intermediateSize();
        float eps = (float) c.rmsEps(), scale = (float) (1.0 / Math.sqrt(D));
        int B = cache.rows(), N = B * Tnew, qd = Hq * D, kvd = Hkv * D;
        try (Scratch s = new Scratch()) {
            DeviceArray x = dev.alloc(ElementType.F32, (long) N * C);
            dev.embeddingForward(x, w(model.embedTokens()), ids, N, C);
            DeviceArray start = s.i32(B);
            dev.fillI32(start, slot, B);   // aligned rows: all append at the same slot
            DeviceArray h = s.f32(N * C), rstd = s.f32(N * Math.max(Hq, 1)), q = s.f32(N * qd), k = s.f32(N * kvd),
                    v = s.f32(N * kvd), qr = s.f32(N * qd), kr = s.f32(N * kvd), att = s.f32(N * qd),
                    lse = s.f32(B * Hq * Tnew), proj = s.f32(N * C), g = s.f32(N * I), u = s.f32(N * I), act = s.f32(N * I);
            DeviceArray qn = c.qkNorm() ? s.f32(N * qd) : null, kn = c.qkNorm() ? s.f32(N * kvd) : null;
            for (DecoderLayer L : model.layers()) {
                dev.rmsnormForward(h, rstd, x, w(L.inputNorm()), N, C, eps);
                linear(h, N, C, L.qProj(), L.qBias(), q, qd);
                linear(h, N, C, L.kProj(), L.kBias(), k, kvd);
                linear(h, N, C, L.vProj(), L.vBias(), v, kvd);
                DeviceArray qq = q, kk = k;
                if (c.qkNorm()) {
                    dev.rmsnormForward(qn, rstd, q, w(L.qNorm()), N * Hq, D, eps);
                    dev.rmsnormForward(kn, rstd, k, w(L.kNorm()), N * Hkv, D, eps);
                    qq = qn;
                    kk = kn;
                }
                dev.rope(qr, qq, pos, cos, sin, N, Hq, D, false);
                dev.rope(kr, kk, pos, cos, sin, N, Hkv, D, false);
                cache.append(L.index(), kr, v, start, Tnew);
                dev.attentionForward(att, lse, qr, cache.k(L.index()), cache.v(L.index()), cache.keyMask(),
                        B, Tnew, cache.maxT, Hq, Hkv, D, slot, scale);
                linear(att, N, qd, L.oProj(), L.oBias(), proj, C);
                dev.add(x, x, proj, (long) N * C);
                dev.rmsnormForward(h, rstd, x, w(L.postAttentionNorm()), N, C, eps);
                linear(h, N, C, L.gateProj(), L.gateBias(), g, I);
                linear(h, N, C, L.upProj(), L.upBias(), u, I);
                dev.swigluForward(act, g, u, (long) N * I);
                linear(act, N, I, L.downProj(), L.downBias(), proj, C);
                dev.add(x, x, proj, (long) N * C);
            }
            DeviceArray out = dev.alloc(ElementType.F32, (long) N * C);
            dev.rmsnormForward(out, rstd, x, w(model.finalNorm()), N, C, eps);
            x.close();
            return out;
        }
    }

    /** logits F32 [rows, V] = h [rows, C] · lm_headᵀ (caller closes). */
    DeviceArray logits(DeviceArray h, int rows) {
        int V = c.vocabSize();
        DeviceArray out = dev.alloc(ElementType.F32, (long) rows * V);
        dev.gemm(false, true, rows, V, c.hiddenSize(), 1f, h, 0, w(model.lmHeadWeight()), 0, 0f, out, 0);
        return out;
    }

    /** out[M, N] = in[M, K] · Wᵀ (+ bias), W [N, K]. */
    private void linear(DeviceArray in, int M, int K, Parameter wt, Parameter bias, DeviceArray out, int N) {
        dev.gemm(false, true, M, N, K, 1f, in, 0, w(wt), 0, 0f, out, 0);
        if (bias != null) dev.addRowBroadcast(out, out, w(bias), M, N);
    }

    private static DeviceArray w(Parameter p) {
        return p.deviceArray("generate on device (" + p.name() + ")");
    }

    /** Per-call temporaries, returned to the device when the call ends. */
    private final class Scratch implements AutoCloseable {
        private final List<DeviceArray> arrays = new ArrayList<>();

        DeviceArray f32(long n) { return add(dev.alloc(ElementType.F32, n)); }

        DeviceArray i32(long n) { return add(dev.alloc(ElementType.I32, n)); }

        private DeviceArray add(DeviceArray a) {
            arrays.add(a);
            return a;
        }

        @Override public void close() { for (DeviceArray a : arrays) a.close(); }
    }
}
