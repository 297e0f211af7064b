package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;

/**
 * Fused lm-head + per-token log-prob: log p(target | h) = (h·Wᵀ)[target] - logsumexp(h·Wᵀ)
 * (or, in entropy mode, the entropy of softmax(h·Wᵀ)), without ever holding the [N, V] logits. Only rows with a target >= 0 are computed (prompt and
 * padding positions cost nothing), in chunks of a few rows whose logits live in one reusable
 * [rows, V] buffer; only lse [N] is saved. The backward recomputes each chunk's logits, turns
 * them into d logits with the token-log-prob kernel, and applies two GEMMs
 * (dh += dlogits·W, dW += dlogitsᵀ·h). Memory O(chunk·V) instead of O(N·V) for both passes,
 * at the price of one extra lm-head GEMM in the backward.
 */
final class FusedLmHead {
    private FusedLmHead() {}

    /** Floats per chunk buffer (32 MB): rows per chunk = this / V. */
    static final int CHUNK_FLOATS = 1 << 23;

    static Tensor apply(Tensor h, Tensor w, int[] targets, int chunkRows, boolean entropy) {
        return apply(h, w, targets, chunkRows, entropy, 1f);
    }

    /**
     * Under softmax(h·Wᵀ / temperature): the logits GEMMs run with alpha = 1/temperature, and the
     * backward's two GEMMs too (d/dh of z/τ), so temperature 1 computes exactly what it did before.
     */
    static Tensor apply(Tensor h, Tensor w, int[] targets, int chunkRows, boolean entropy, float temperature) {
        String op = entropy ? "linearEntropy" : "linearTokenLogProbs";
        if (!(temperature > 0)) throw new IllegalArgumentException(op + ": temperature must be > 0, got " + temperature);
        float inv = 1f / temperature;
        DeviceBackend dev = OnDevice.deviceOf(op, h, w);
        int[] hs = h.shape(), ws = w.shape();
        if (ws.length != 2 || hs.length < 1 || hs[hs.length - 1] != ws[1])
            throw new IllegalArgumentException(op + ": h " + Shape.str(hs) + " and weight " + Shape.str(ws)
                    + " do not fit h [..., C] · Wᵀ with W [V, C]");
        int C = ws[1], V = ws[0], N = h.numel() / Math.max(1, C);
        if (targets.length != N)
            throw new IllegalArgumentException(op + ": " + targets.length + " targets for " + N + " rows of h " + Shape.str(hs));
        int count = 0;
        for (int i = 0; i < N; i++) {
            if (targets[i] >= V)
                throw new IndexOutOfBoundsException(op + ": target " + targets[i] + " at row " + i + " >= vocab " + V);
            if (targets[i] >= 0) count++;
        }
        // the device form computes all N rows in one pass, the host form chunks the scored rows: different GEMM shapes
        if (dev != null) return onDevice(dev, op, h, w, targets, N, V, C, entropy, Arrays.copyOf(hs, hs.length - 1), inv);
        final int nValid = count;
        int[] rows = new int[nValid];                   // the rows that need logits
        int[] tgt = new int[nValid];
        for (int i = 0, k = 0; i < N; i++) if (targets[i] >= 0) { rows[k] = i; tgt[k++] = targets[i]; }
        int chunk = Math.max(1, chunkRows > 0 ? chunkRows : CHUNK_FLOATS / Math.max(1, V));
        Tensor out = Tensor.zeros(Arrays.copyOf(hs, hs.length - 1));
        float[] lse = new float[nValid], saved = entropy ? new float[nValid] : null;   // entropy values for its backward
        Backend be = Backends.current();
        float[] H = h.data(), W = w.data(), O = out.data();
        int cap = Math.min(chunk, Math.max(1, nValid));
        float[] hRows = new float[cap * C], logits = new float[cap * V], lp = new float[cap], l = new float[cap];
        for (int r0 = 0; r0 < nValid; r0 += chunk) {
            int R = Math.min(chunk, nValid - r0);
            gatherRows(H, rows, r0, R, C, hRows);
            be.gemm(false, true, R, V, C, inv, hRows, 0, W, 0, 0f, logits, 0);
            if (entropy) be.entropyForward(lp, l, logits, R, V);
            else be.tokenLogProbsForward(lp, l, logits, Arrays.copyOfRange(tgt, r0, r0 + R), R, V);
            for (int i = 0; i < R; i++) {
                O[rows[r0 + i]] = lp[i];
                lse[r0 + i] = l[i];
                if (entropy) saved[r0 + i] = lp[i];
            }
        }
        if (Grad.needsGrad(h, w)) Grad.attach(out, new Node(op, h, w) {
            @Override
            protected void backward(float[] g) {
                Tensor hi = input(0), wi = input(1);
                Backend b = Backends.current();
                float[] Hd = hi.data(), Wd = wi.data();
                float[] dH = hi.requiresGrad() ? hi.gradBuffer() : null, dW = wi.requiresGrad() ? wi.gradBuffer() : null;
                float[] hr = new float[cap * C], lg = new float[cap * V], dl = new float[cap * V], gr = new float[cap];
                float[] dhr = dH == null ? null : new float[cap * C];
                for (int r0 = 0; r0 < nValid; r0 += chunk) {
                    int R = Math.min(chunk, nValid - r0);
                    gatherRows(Hd, rows, r0, R, C, hr);
                    b.gemm(false, true, R, V, C, inv, hr, 0, Wd, 0, 0f, lg, 0);
                    for (int i = 0; i < R; i++) gr[i] = g[rows[r0 + i]];
                    Arrays.fill(dl, 0, R * V, 0f);
                    float[] lseR = Arrays.copyOfRange(lse, r0, r0 + R);
                    if (entropy) b.entropyBackward(dl, gr, lg, lseR, Arrays.copyOfRange(saved, r0, r0 + R), R, V);
                    else b.tokenLogProbsBackward(dl, gr, lg, lseR, Arrays.copyOfRange(tgt, r0, r0 + R), R, V);
                    if (dW != null) b.gemm(true, false, V, C, R, inv, dl, 0, hr, 0, 1f, dW, 0);   // dW[V,C] += dlᵀ·h/τ
                    if (dH != null) {
                        b.gemm(false, false, R, C, V, inv, dl, 0, Wd, 0, 0f, dhr, 0);           // dh[R,C] = dl·W/τ
                        for (int i = 0; i < R; i++) {
                            int dst = rows[r0 + i] * C, src = i * C;
                            for (int c = 0; c < C; c++) dH[dst + c] += dhr[src + c];
                        }
                    }
                }
            }
        });
        return out;
    }

    /**
     * The device form, composed of existing device kernels (GEMM, token log-prob / entropy):
     * unlike the host form it computes the logits of ALL N rows at once in one [N, V] scratch
     * (freed after each pass; no chunking, no skipping of rows with a negative target). Token
     * log-probs of negative targets are 0 with no gradient (the kernel's contract); the entropy of
     * such rows is multiplied by the F32 row mask of the targets (uploaded once per array, like
     * the I32 targets), and so is the incoming gradient in the backward.
     */
    private static Tensor onDevice(DeviceBackend dev, String op, Tensor h, Tensor w, int[] targets, int N, int V, int C,
                                   boolean entropy, int[] outShape, float inv) {
        OnDevice.Ref t = entropy ? null : OnDevice.ints(dev, targets, op + " targets [" + N + "]");
        OnDevice.Ref m = entropy ? OnDevice.rowMask(dev, targets, op + " row mask [" + N + "]") : null;
        OnDevice.Ref lse = OnDevice.scratch(dev, N);
        OnDevice.Ref ent = entropy ? OnDevice.scratch(dev, N) : null;   // unmasked entropy, for the backward
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray O = out.deviceArray(op);
        if (N > 0) try (DeviceArray logits = dev.alloc(ElementType.F32, (long) N * V)) {
            dev.gemm(false, true, N, V, C, inv, h.deviceArray(op), 0, w.deviceArray(op), 0, 0f, logits, 0);
            if (entropy) {
                dev.entropyForward(ent.array, lse.array, logits, N, V);
                dev.mul(O, ent.array, m.array, N);
            } else {
                dev.tokenLogProbsForward(O, lse.array, logits, t.array, N, V);
            }
        }
        if (N > 0 && Grad.needsGrad(h, w)) Grad.attach(out, new OnDevice.DeviceNode(op, h, w) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor hi = input(0), wi = input(1);
                DeviceArray H = hi.deviceArray(op), W = wi.deviceArray(op);
                try (DeviceArray logits = dev.alloc(ElementType.F32, (long) N * V);
                     DeviceArray dl = dev.alloc(ElementType.F32, (long) N * V);
                     DeviceArray gm = entropy ? dev.alloc(ElementType.F32, N) : null) {
                    dev.gemm(false, true, N, V, C, inv, H, 0, W, 0, 0f, logits, 0);
                    if (entropy) {
                        dev.mul(gm, g, m.array, N);
                        dev.entropyBackward(dl, gm, logits, lse.array, ent.array, N, V);
                    } else {
                        dev.tokenLogProbsBackward(dl, g, logits, lse.array, t.array, N, V);
                    }
                    if (wi.requiresGrad()) dev.gemm(true, false, V, C, N, inv, dl, 0, H, 0, 1f, wi.deviceGradBuffer(), 0);
                    if (hi.requiresGrad()) dev.gemm(false, false, N, C, V, inv, dl, 0, W, 0, 1f, hi.deviceGradBuffer(), 0);
                }
            }
        });
        return out;
    }

    private static void gatherRows(float[] H, int[] rows, int r0, int R, int C, float[] dst) {
        for (int i = 0; i < R; i++) System.arraycopy(H, rows[r0 + i] * C, dst, i * C, C);
    }
}
