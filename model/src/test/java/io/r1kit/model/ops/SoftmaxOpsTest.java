package io.r1kit.model.ops;

import ai.djl.ndarray.NDArray;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static io.r1kit.model.testing.TorchRef.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * softmax, log-softmax and the fused token-log-prob / entropy / cross-entropy ops. libtorch has
 * no fused twin for the last three, so the reference composes them: log_softmax · onehot summed
 * (token log-probs), -sum(softmax · log_softmax) (entropy).
 */
class SoftmaxOpsTest {
    /** exp/log-sum-exp over V <= 1000 terms in float32; log-probs are O(log V) ≈ 7 in magnitude. */
    static final Tol SOFTMAX = new Tol(1e-5, 1e-5, "float32 log-sum-exp over <= 1000 terms, different order");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    private static int[] targets(long seed, int n, int V, double pIgnore) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextDouble() < pIgnore ? -100 : r.nextInt(V);
        return t;
    }

    private static Tensor onehot(int[] targets, int V, int... shape) {
        Tensor oh = Tensor.zeros(shape);
        for (int i = 0; i < targets.length; i++) if (targets[i] >= 0) oh.data()[i * V + targets[i]] = 1f;
        return oh;
    }

    @Test
    void softmaxAndLogSoftmax() {
        for (int V : new int[] {1, 7, 33, 1000}) {
            Tensor x = F.scale(randn(V, 2, 3, V), 3f);
            torch.checkOp("softmax V=" + V, SOFTMAX, List.of(x), t -> F.softmax(t.get(0)), t -> t.get(0).softmax(-1));
            torch.checkOp("logSoftmax V=" + V, SOFTMAX, List.of(x), t -> F.logSoftmax(t.get(0)), t -> t.get(0).logSoftmax(-1));
        }
    }

    @Test
    void tokenLogProbsWithIgnoredTargets() {
        for (int V : new int[] {2, 33, 1000, 4099}) {
            int B = 3, T = 5;
            Tensor logits = F.scale(randn(V + 1, B, T, V), 2f);
            int[] tg = targets(V, B * T, V, 0.2);
            Tensor oh = onehot(tg, V, B, T, V);
            torch.checkOp("tokenLogProbs V=" + V, SOFTMAX, List.of(logits, oh), new boolean[] {true, false},
                    t -> F.tokenLogProbs(t.get(0), tg),
                    t -> t.get(0).logSoftmax(-1).mul(t.get(1)).sum(new int[] {2}));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> F.tokenLogProbs(Tensor.zeros(2, 4), new int[] {0, 4}));
        assertThrows(IllegalArgumentException.class, () -> F.tokenLogProbs(Tensor.zeros(2, 4), new int[] {0}));
    }

    @Test
    void fusedLinearTokenLogProbsMatchesTorchAndTheUnfusedOps() {
        int B = 2, T = 7, C = 13, V = 37;
        Tensor h = randn(40, B, T, C), w = F.scale(randn(41, V, C), 0.5f);
        int[] tg = targets(42, B * T, V, 0.3);
        Tensor oh = onehot(tg, V, B, T, V);
        for (int chunk : new int[] {1, 3, 0}) {   // chunk boundaries inside and a single chunk
            torch.checkOp("linearTokenLogProbs chunk " + chunk, SOFTMAX, List.of(h, w, oh), new boolean[] {true, true, false},
                    t -> F.linearTokenLogProbs(t.get(0), t.get(1), tg, chunk),
                    t -> t.get(0).matMul(t.get(1).transpose()).logSoftmax(-1).mul(t.get(2)).sum(new int[] {2}));
        }
        // against the unfused r1kit ops: same kernels, so near-identical
        Tensor h1 = h.copy().requiresGrad(true), w1 = w.copy().requiresGrad(true);
        Tensor h2 = h.copy().requiresGrad(true), w2 = w.copy().requiresGrad(true);
        Tensor up = randn(43, B, T);
        F.linearTokenLogProbs(h1, w1, tg, 4).backward(up);
        F.tokenLogProbs(F.linear(h2, w2), tg).backward(up);
        TorchRef.assertClose("fused vs unfused dh (same kernels, chunked GEMM rows)", h2.gradData(), h1.gradData(), 1e-6, 1e-5);
        TorchRef.assertClose("fused vs unfused dW (same kernels, chunked GEMM rows)", w2.gradData(), w1.gradData(), 1e-6, 1e-5);
        assertThrows(IllegalArgumentException.class, () -> F.linearTokenLogProbs(h, Tensor.zeros(V, C + 1), tg));
        // fused entropy on the selected rows; the torch side zeroes the unselected rows with a row mask
        float[] sel = new float[B * T];
        for (int i = 0; i < sel.length; i++) sel[i] = tg[i] >= 0 ? 1f : 0f;
        Tensor rowMask = Tensor.of(sel, B, T);
        for (int chunk : new int[] {2, 0}) {
            torch.checkOp("linearEntropy chunk " + chunk, SOFTMAX, List.of(h, w, rowMask), new boolean[] {true, true, false},
                    t -> F.linearEntropy(t.get(0), t.get(1), tg, chunk),
                    t -> {
                        NDArray z = t.get(0).matMul(t.get(1).transpose());
                        return z.softmax(-1).mul(z.logSoftmax(-1)).sum(new int[] {2}).neg().mul(t.get(2));
                    });
        }
        int[] allIgnored = new int[B * T];
        java.util.Arrays.fill(allIgnored, -1);
        assertEquals(0f, F.sum(F.linearTokenLogProbs(h, w, allIgnored)).item());
    }

    @Test
    void entropyMatchesComposedTorch() {
        for (int V : new int[] {1, 33, 1000}) {
            Tensor logits = F.scale(randn(V + 2, 4, V), 2f);
            torch.checkOp("entropy V=" + V, SOFTMAX, List.of(logits), t -> F.entropy(t.get(0)),
                    t -> t.get(0).softmax(-1).mul(t.get(0).logSoftmax(-1)).sum(new int[] {1}).neg());
        }
    }

    @Test
    void grpoLossEndToEndFromLogits() {
        // GRPO: per-token clipped surrogate with k3 KL to a reference policy, masked per-sequence
        // mean, then batch mean — the whole chain from logits, against the same chain in torch.
        int B = 3, T = 6, V = 29;
        Tensor logits = randn(30, B, T, V);
        int[] tg = targets(31, B * T, V, 0.0);
        Tensor oh = onehot(tg, V, B, T, V);
        Tensor old = F.addScalar(F.scale(randn(32, B, T), 0.1f), -3.3f), ref = F.addScalar(F.scale(randn(33, B, T), 0.1f), -3.3f);
        Tensor adv = randn(34, B, 1), mask = TorchRef.mask(35, 0.7, B, T);
        mask.set(1f, 0, 0);
        mask.set(1f, 1, 0);
        mask.set(1f, 2, 0);   // every row keeps at least one token
        boolean[] diff = {true, false, false, false, false, false};
        torch.checkOp("grpo loss", SOFTMAX, List.of(logits, oh, old, ref, adv, mask), diff, t -> {
            Tensor lp = F.tokenLogProbs(t.get(0), tg);
            Tensor ratio = F.exp(F.sub(lp, t.get(2)));
            Tensor surr = F.minimum(F.mul(ratio, t.get(4)), F.mul(F.clamp(ratio, 0.8f, 1.2f), t.get(4)));
            Tensor d = F.sub(t.get(3), lp);
            Tensor kl = F.addScalar(F.sub(F.exp(d), d), -1f);
            Tensor perToken = F.neg(F.sub(surr, F.scale(kl, 0.04f)));
            return F.mean(F.maskedMean(perToken, t.get(5), 1));
        }, t -> {
            NDArray lp = t.get(0).logSoftmax(-1).mul(t.get(1)).sum(new int[] {2});
            NDArray ratio = lp.sub(t.get(2)).exp();
            NDArray surr = ratio.mul(t.get(4)).minimum(ratio.clip(0.8f, 1.2f).mul(t.get(4)));
            NDArray d = t.get(3).sub(lp);
            NDArray kl = d.exp().sub(d).sub(1f);
            NDArray perToken = surr.sub(kl.mul(0.04f)).neg();
            return perToken.mul(t.get(5)).sum(new int[] {1}).div(t.get(5).sum(new int[] {1})).mean();
        });
    }

    @Test
    void crossEntropyIgnoresNegativeTargetsAndHonoursMask() {
        int N = 9, V = 17;
        Tensor logits = randn(20, N, V);
        int[] tg = targets(21, N, V, 0.3);
        Tensor oh = onehot(tg, V, N, V);
        float valid = 0;
        for (int t : tg) if (t >= 0) valid++;
        float nValid = valid;
        torch.checkOp("crossEntropy", SOFTMAX, List.of(logits, oh), new boolean[] {true, false},
                t -> F.crossEntropy(t.get(0), tg),
                t -> t.get(0).logSoftmax(-1).mul(t.get(1)).sum().div(-nValid));
        Tensor mask = TorchRef.mask(22, 0.5, N);
        Tensor ohAll = onehot(targets(21, N, V, 0.0), V, N, V);
        int[] tgAll = targets(21, N, V, 0.0);
        torch.checkOp("crossEntropy mask", SOFTMAX, List.of(logits, ohAll, mask), new boolean[] {true, false, false},
                t -> F.crossEntropy(t.get(0), tgAll, t.get(2)),
                t -> {
                    NDArray lp = t.get(0).logSoftmax(-1).mul(t.get(1)).sum(new int[] {1});
                    return lp.mul(t.get(2)).sum().div(t.get(2).sum()).neg();
                });
        assertEquals(0f, F.scale(F.crossEntropy(logits, new int[N]), 0f).item());
    }
}
