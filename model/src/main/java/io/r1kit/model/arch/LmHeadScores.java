package io.r1kit.model.arch;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.ops.OnDevice;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Fused, chunked {@code lm_head} + log-softmax-gather (+ entropy): for hidden states h [N, C] and
 * the output matrix W [V, C] computes, per row n,
 * <pre>
 *   z = (h[n] · Wᵀ) / temperature                   (the row's logits, [V])
 *   out[n, 0] = z[target[n]] - logsumexp(z)           (0 when target[n] &lt; 0)
 *   out[n, 1] = -Σ softmax(z) log softmax(z)          (entropy; 0 unless withEntropy)
 * </pre>
 * without ever holding more than {@code chunkRows × V} logits: the forward computes the logits of a
 * chunk of rows, reduces them and drops them; the backward recomputes them chunk by chunk (one extra
 * GEMM, the Liger-kernel trade) and accumulates dh = dz·W/τ and dW = dzᵀ·h/τ. With a 150k vocabulary
 * and 8k positions the full [N, V] logits would be 4.9 GB; here it is {@link #CHUNK_FLOATS} floats.
 *
 * <p>Memory saved for backward: h and W (already alive as activation/parameter), targets, and lse and
 * entropy per row.
 */
final class LmHeadScores {
    private LmHeadScores() {}

    /** Target size of one chunk of logits (floats): 4M = 16 MB. */
    static final int CHUNK_FLOATS = 1 << 22;

    static int chunkRows(int V) {
        return Math.max(1, CHUNK_FLOATS / V);
    }

    /** h [N, C], w [V, C] → [N, 2] (log-prob, entropy). */
    static Tensor apply(Tensor h, Tensor w, int[] targets, float temperature, boolean withEntropy) {
        OnDevice.requireHost("scoreTokens (fused lm-head scores)", h, w);
        return apply(h, w, targets, temperature, withEntropy, chunkRows(w.dim(0)));
    }

    /** {@link #apply} with an explicit chunk size (tests use tiny chunks to cross chunk boundaries). */
    static Tensor apply(Tensor h, Tensor w, int[] targets, float temperature, boolean withEntropy, int chunk) {
        int[] hs = h.shape(), ws = w.shape();
        if (hs.length != 2 || ws.length != 2 || hs[1] != ws[1])
            throw new IllegalArgumentException("lmHeadScores: need h [N, C] and W [V, C], got " + Shape.str(hs) + " and " + Shape.str(ws));
        int N = hs[0], C = hs[1], V = ws[0];
        if (targets.length != N) throw new IllegalArgumentException("lmHeadScores: " + targets.length + " targets for " + N + " rows");
        for (int i = 0; i < N; i++) {
            if (targets[i] >= V) throw new IllegalArgumentException("lmHeadScores: target " + targets[i] + " at row " + i + " >= vocab " + V);
        }
        if (!(temperature > 0)) throw new IllegalArgumentException("lmHeadScores: temperature must be > 0, got " + temperature);
        float inv = 1f / temperature;
        Backend be = Backends.current();
        Tensor out = Tensor.zeros(N, 2);
        float[] O = out.data(), lse = new float[N], ent = withEntropy ? new float[N] : null;
        if (chunk < 1) throw new IllegalArgumentException("lmHeadScores: chunk must be >= 1");
        float[] logits = new float[Math.min(N, chunk) * V];
        float[] lp = new float[Math.min(N, chunk)], lseTmp = new float[Math.min(N, chunk)];
        float[] H = h.data(), W = w.data();
        for (int r0 = 0; r0 < N; r0 += chunk) {
            int n = Math.min(chunk, N - r0);
            be.gemm(false, true, n, V, C, inv, H, r0 * C, W, 0, 0f, logits, 0);
            int[] tg = java.util.Arrays.copyOfRange(targets, r0, r0 + n);
            be.tokenLogProbsForward(lp, lseTmp, logits, tg, n, V);
            for (int i = 0; i < n; i++) {
                O[(r0 + i) * 2] = lp[i];
                lse[r0 + i] = lseTmp[i];
            }
            if (withEntropy) {
                float[] e = new float[n];
                be.entropyForward(e, lseTmp, logits, n, V);
                for (int i = 0; i < n; i++) {
                    O[(r0 + i) * 2 + 1] = e[i];
                    ent[r0 + i] = e[i];
                }
            }
        }
        if (Grad.needsGrad(h, w)) Grad.attach(out, new Node("lmHeadScores", h, w) {
            private float[] savedLse = lse, savedEnt = ent;

            @Override
            protected void backward(float[] g) {
                Tensor hi = input(0), wi = input(1);
                float[] Hd = hi.data(), Wd = wi.data();
                float[] dH = hi.requiresGrad() ? hi.gradBuffer() : null;
                float[] dW = wi.requiresGrad() ? wi.gradBuffer() : null;
                float[] z = new float[Math.min(N, chunk) * V], dz = new float[z.length];
                for (int r0 = 0; r0 < N; r0 += chunk) {
                    int n = Math.min(chunk, N - r0);
                    boolean any = false;
                    float[] gLp = new float[n], gEnt = new float[n], l = new float[n], e = new float[n];
                    for (int i = 0; i < n; i++) {
                        gLp[i] = g[(r0 + i) * 2];
                        gEnt[i] = savedEnt == null ? 0f : g[(r0 + i) * 2 + 1];
                        l[i] = savedLse[r0 + i];
                        if (savedEnt != null) e[i] = savedEnt[r0 + i];
                        any |= (gLp[i] != 0f && targets[r0 + i] >= 0) || gEnt[i] != 0f;
                    }
                    if (!any) continue;
                    Backend b = Backends.current();
                    b.gemm(false, true, n, V, C, inv, Hd, r0 * C, Wd, 0, 0f, z, 0);
                    java.util.Arrays.fill(dz, 0, n * V, 0f);
                    int[] tg = java.util.Arrays.copyOfRange(targets, r0, r0 + n);
                    b.tokenLogProbsBackward(dz, gLp, z, l, tg, n, V);
                    if (savedEnt != null) b.entropyBackward(dz, gEnt, z, l, e, n, V);
                    // z = inv · h Wᵀ  ⇒  dh = inv · dz W,  dW = inv · dzᵀ h
                    if (dH != null) b.gemm(false, false, n, C, V, inv, dz, 0, Wd, 0, 1f, dH, r0 * C);
                    if (dW != null) b.gemm(true, false, V, C, n, inv, dz, 0, Hd, r0 * C, 1f, dW, 0);
                }
            }

            @Override
            protected void release() {
                savedLse = null;
                savedEnt = null;
                super.release();
            }
        });
        return out;
    }
}
