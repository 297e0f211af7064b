package io.r1kit.model.generate;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DecoderLayer;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.Parallel;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * One decode step for M rows: each row feeds one token, appends its k/v to its cache row and gets
 * next-token logits. The same math as {@link DecoderLayer}'s forward, written on raw buffers and
 * backend kernels so the hot path allocates nothing per step: every activation buffer is sized for
 * {@code maxRows} once. Projections are GEMMs with M = rows (the skinny kernels for M ≤ 8).
 * Attention runs per row over the row's own cache (B = 1, Tk = capacity, query at position
 * length-1, so the kernel reads only the row's real keys), rows in parallel.
 */
final class DecodeStep {
    private final CausalLM model;
    private final ModelConfig c;
    private final int maxRows, C, Hq, Hkv, D, I, V;
    private final float eps, scale;
    private final float[] x, h, q, qn, k, kn, v, att, proj, g, u, act, rstd, logits;
    private final float[][] qRow, outRow, lseRow;
    private final int[] pos;
    private final Map<Parameter, LowPrecisionWeights> narrow; // projection weights read in bf16/fp8 (empty: fp32)

    DecodeStep(CausalLM model, int maxRows) {
        this(model, maxRows, DecodePrecision.FP32);
    }

    /** A decode step whose decoder-layer projections read a {@code precision} copy of their weights, made here. */
    DecodeStep(CausalLM model, int maxRows, DecodePrecision precision) {
        this.model = model;
        this.narrow = new IdentityHashMap<>();
        if (precision != DecodePrecision.FP32) {
            for (DecoderLayer L : model.layers()) {
                for (Parameter w : new Parameter[] {L.qProj(), L.kProj(), L.vProj(), L.oProj(), L.gateProj(), L.upProj(), L.downProj()}) {
                    int[] sh = w.shape();
                    narrow.put(w, LowPrecisionWeights.of(w.data(), sh[0], sh[1], precision));
                }
            }
        }
        this.c = model.config();
        this.maxRows = maxRows;
        C = c.hiddenSize();
        Hq = c.numHeads();
        Hkv = c.numKvHeads();
        D = c.headDim();
        I = c.intermediateSize();
        V = c.vocabSize();
        eps = (float) c.rmsEps();
        scale = (float) (1.0 / Math.sqrt(D));
        x = new float[maxRows * C];
        h = new float[maxRows * C];
        q = new float[maxRows * Hq * D];
        qn = new float[maxRows * Hq * D];
        k = new float[maxRows * Hkv * D];
        kn = new float[maxRows * Hkv * D];
        v = new float[maxRows * Hkv * D];
        att = new float[maxRows * Hq * D];
        proj = new float[maxRows * C];
        g = new float[maxRows * I];
        u = new float[maxRows * I];
        act = new float[maxRows * I];
        rstd = new float[maxRows * Math.max(Hq, 1)];
        logits = new float[maxRows * V];
        qRow = new float[maxRows][Hq * D];
        outRow = new float[maxRows][Hq * D];
        lseRow = new float[maxRows][Hq];
        pos = new int[maxRows];
    }

    /**
     * Feeds tokens[i] to cache row rows[i] (i &lt; M) at position length[rows[i]] and returns the
     * logits buffer, row i = [i·V, (i+1)·V). The buffer is reused by the next call.
     */
    float[] step(KvCache cache, int[] rows, int[] tokens, int M) {
        if (M > maxRows) throw new IllegalArgumentException("DecodeStep: " + M + " rows > maxRows " + maxRows);
        Backend be = Backends.current();
        float[] E = model.embedTokens().data();
        for (int i = 0; i < M; i++) {
            int r = rows[i];
            if (cache.length[r] >= cache.capacity[r])
                throw new IllegalStateException("DecodeStep: KV cache row " + r + " is full (" + cache.capacity[r] + " tokens)");
            pos[i] = cache.length[r];
            if (pos[i] >= c.maxPositions())
                throw new IllegalStateException("DecodeStep: position " + pos[i] + " >= max_position_embeddings " + c.maxPositions());
            System.arraycopy(E, tokens[i] * C, x, i * C, C);
        }
        float[] cos = model.ropeTables().cos(), sin = model.ropeTables().sin();
        int qd = Hq * D, kvd = Hkv * D;
        for (DecoderLayer L : model.layers()) {
            int li = L.index();
            be.rmsnormForward(h, rstd, x, L.inputNorm().data(), M, C, eps);
            linear(be, h, M, C, L.qProj(), L.qBias(), q, qd);
            linear(be, h, M, C, L.kProj(), L.kBias(), k, kvd);
            linear(be, h, M, C, L.vProj(), L.vBias(), v, kvd);
            float[] qq = q, kk = k;
            if (c.qkNorm()) {
                be.rmsnormForward(qn, rstd, q, L.qNorm().data(), M * Hq, D, eps);
                be.rmsnormForward(kn, rstd, k, L.kNorm().data(), M * Hkv, D, eps);
                qq = qn;
                kk = kn;
            }
            be.rope(qq, qq, pos, cos, sin, M, Hq, D, false);
            be.rope(kk, kk, pos, cos, sin, M, Hkv, D, false);
            for (int i = 0; i < M; i++) {
                int r = rows[i], slot = cache.length[r];
                System.arraycopy(kk, i * kvd, cache.k[li][r], slot * kvd, kvd);
                System.arraycopy(v, i * kvd, cache.v[li][r], slot * kvd, kvd);
            }
            final float[] qsrc = qq;
            Parallel.forRange(M, 1, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int r = rows[i], len = cache.length[r] + 1;
                    System.arraycopy(qsrc, i * qd, qRow[i], 0, qd);
                    be.attentionForward(outRow[i], lseRow[i], qRow[i], cache.k[li][r], cache.v[li][r], null,
                            1, 1, cache.capacity[r], Hq, Hkv, D, len - 1, scale);
                    System.arraycopy(outRow[i], 0, att, i * qd, qd);
                }
            });
            linear(be, att, M, qd, L.oProj(), L.oBias(), proj, C);
            be.add(x, 0, x, 0, proj, 0, M * C);
            be.rmsnormForward(h, rstd, x, L.postAttentionNorm().data(), M, C, eps);
            linear(be, h, M, C, L.gateProj(), L.gateBias(), g, I);
            linear(be, h, M, C, L.upProj(), L.upBias(), u, I);
            be.swigluForward(act, g, u, M * I);
            linear(be, act, M, I, L.downProj(), L.downBias(), proj, C);
            be.add(x, 0, x, 0, proj, 0, M * C);
        }
        for (int i = 0; i < M; i++) cache.length[rows[i]]++;
        be.rmsnormForward(h, rstd, x, model.finalNorm().data(), M, C, eps);
        be.gemm(false, true, M, V, C, 1f, h, 0, model.lmHeadWeight().data(), 0, 0f, logits, 0);
        return logits;
    }

    /** Bytes of weights one step reads: the projections in their decode precision, the lm head in fp32. */
    long weightBytesPerStep() {
        long b = 4L * model.lmHeadWeight().numel();
        for (DecoderLayer L : model.layers()) {
            for (Parameter w : new Parameter[] {L.qProj(), L.kProj(), L.vProj(), L.oProj(), L.gateProj(), L.upProj(), L.downProj()}) {
                LowPrecisionWeights n = narrow.get(w);
                b += n != null ? n.bytes() : 4L * w.numel();
            }
        }
        return b;
    }

    /** out[M, N] = in[M, K] · Wᵀ (+ bias), W [N, K]. */
    private void linear(Backend be, float[] in, int M, int K, Parameter w, Parameter bias, float[] out, int N) {
        LowPrecisionWeights n = narrow.get(w);
        if (n != null) n.gemm(in, M, out);
        else be.gemm(false, true, M, N, K, 1f, in, 0, w.data(), 0, 0f, out, 0);
        if (bias != null) {
            float[] b = bias.data();
            for (int i = 0; i < M; i++) be.add(out, i * N, out, i * N, b, 0, N);
        }
    }
}
