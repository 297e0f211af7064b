package io.r1kit.model.backend.device;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ops the GRPO and SFT losses are built from, on an {@link EmulatedDevice} against the same op
 * on the CPU: forward values and the gradients of every differentiable input, with the transfer log
 * showing NO copy during forward + backward (inputs are moved first; host index arrays are made
 * resident by a first, discarded run — they are uploaded once per array, see OnDevice).
 *
 * <p>Tolerances: the elementwise ops, broadcasts, where and the reductions run, on the emulated
 * device, the very formulas the host runs (UnaryOp / BinaryOp, the same double accumulation and
 * scale in the same order), so they must give the CPU's bits: {@link #EXACT}. The fused lm-head ops
 * differ in how rows reach the GEMM (the device multiplies all N rows at once, the host gathers the
 * rows with a target into chunks), so the GEMM may block the sums differently: a few ulp on the
 * logits, carried through log-softmax / entropy and the two backward GEMMs, hence 1e-5 relative +
 * 1e-6 absolute (inputs of unit scale, sums over C = 5 and V = 7).
 */
class DeviceLossOpsTest {
    final EmulatedDevice emu = new EmulatedDevice();

    /** No tolerance: the same bits as the CPU. */
    static final double EXACT = 0;

    /** One case: differentiable inputs, constant inputs (masks), the expression over (params ++ constants). */
    void check(String name, double rel, double abs, List<Tensor> params, List<Tensor> consts, Function<List<Tensor>, Tensor> expr) {
        List<Tensor> hostIn = new ArrayList<>(), devIn = new ArrayList<>();
        for (Tensor p : params) {
            hostIn.add(Tensor.of(p.data().clone(), p.shape()).requiresGrad(true));
            devIn.add(Tensor.of(p.data().clone(), p.shape()).toDevice(emu).requiresGrad(true));
        }
        for (Tensor c : consts) {
            hostIn.add(c);
            devIn.add(c.toDevice(emu));
        }
        Tensor hostOut = expr.apply(hostIn);
        Tensor w = Tensor.randn(99, hostOut.shape());          // a weighted sum: every output gets its own gradient
        F.sum(F.mul(hostOut, w)).backward();
        Tensor wd = w.toDevice(emu);
        expr.apply(devIn);                                      // warm-up: index arrays become resident
        emu.transfers().reset();
        Tensor devOut = expr.apply(devIn);
        F.sum(F.mul(devOut, wd)).backward();
        assertEquals(0, emu.transfers().log().size(), name + ": forward + backward copied: " + emu.transfers().log());
        assertTrue(devOut.isOnDevice(), name + ": result left the device");
        close(name + " value", hostOut.data(), devOut.data(), rel, abs);
        for (int i = 0; i < params.size(); i++)
            close(name + " grad of input " + i, hostIn.get(i).gradData(), devIn.get(i).gradData(), rel, abs);
    }

    static void close(String what, float[] want, float[] got, double rel, double abs) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(want[i] - got[i]) <= abs + rel * Math.abs(want[i])) && !(Float.compare(want[i], got[i]) == 0))
                throw new AssertionError(what + "[" + i + "]: cpu " + want[i] + ", device " + got[i]);
    }

    static final int[] TARGETS = {3, -1, 0, 6, -1, 2};   // rows [2, 3] of h; -1 = prompt / padding

    @Test
    void fusedLmHeadTokenLogProbs() {
        check("linearTokenLogProbs", 1e-5, 1e-6, List.of(Tensor.randn(1, 2, 3, 5), Tensor.randn(2, 7, 5)), List.of(),
                x -> F.linearTokenLogProbs(x.get(0), x.get(1), TARGETS));
        check("linearTokenLogProbs, 2-row chunks on the host", 1e-5, 1e-6, List.of(Tensor.randn(3, 2, 3, 5), Tensor.randn(4, 7, 5)),
                List.of(), x -> F.linearTokenLogProbs(x.get(0), x.get(1), TARGETS, 2));
    }

    @Test
    void fusedLmHeadEntropy() {
        check("linearEntropy", 1e-5, 1e-6, List.of(Tensor.randn(5, 2, 3, 5), Tensor.randn(6, 7, 5)), List.of(),
                x -> F.linearEntropy(x.get(0), x.get(1), TARGETS));
    }

    /** A [2, 3] mask with an all-zero row 1 (the "0 when the mask is empty" path) and a fractional weight. */
    static Tensor mask23() { return Tensor.of(new float[] {1, 0, 0.5f, 0, 0, 0}, 2, 3); }

    static Tensor positive(long seed, int... shape) {   // inputs of log / sqrt / pow / div's denominator
        Tensor t = Tensor.randn(seed, shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = 0.5f + Math.abs(d[i]);
        return Tensor.of(d, shape);
    }

    @Test
    void maskedCrossEntropy() {
        Tensor mask = Tensor.of(new float[] {1, 0, 1, 1, 0.5f, 1}, 2, 3);
        check("crossEntropy with a mask", EXACT, EXACT, List.of(Tensor.randn(7, 2, 3, 7)), List.of(mask),
                x -> F.crossEntropy(x.get(0), TARGETS, x.get(1)));
    }

    @Test
    void reductions() {
        List<Tensor> x = List.of(Tensor.randn(11, 2, 3, 4));
        for (int d = 0; d < 3; d++) {
            int dim = d;
            check("sum(dim " + d + ")", EXACT, EXACT, x, List.of(), t -> F.sum(t.get(0), dim, false));
            check("mean(dim " + d + ", keepDim)", EXACT, EXACT, x, List.of(), t -> F.mean(t.get(0), dim, true));
        }
        List<Tensor> y = List.of(Tensor.randn(12, 2, 3));
        check("maskedSum", EXACT, EXACT, y, List.of(mask23()), t -> F.maskedSum(t.get(0), t.get(1)));
        check("maskedMean", EXACT, EXACT, y, List.of(mask23()), t -> F.maskedMean(t.get(0), t.get(1)));
        check("maskedSum(dim 1)", EXACT, EXACT, y, List.of(mask23()), t -> F.maskedSum(t.get(0), t.get(1), 1));
        check("maskedMean(dim 1), an empty row", EXACT, EXACT, y, List.of(mask23()), t -> F.maskedMean(t.get(0), t.get(1), 1));
        check("maskedMean(dim 0)", EXACT, EXACT, y, List.of(mask23()), t -> F.maskedMean(t.get(0), t.get(1), 0));
        check("maskedMean, all-zero mask", EXACT, EXACT, y, List.of(Tensor.zeros(2, 3)), t -> F.maskedMean(t.get(0), t.get(1)));
    }

    @Test
    void unaryOps() {
        List<Tensor> x = List.of(Tensor.randn(21, 2, 3)), p = List.of(positive(22, 2, 3));
        check("exp", EXACT, EXACT, x, List.of(), t -> F.exp(t.get(0)));
        check("log", EXACT, EXACT, p, List.of(), t -> F.log(t.get(0)));
        check("sqrt", EXACT, EXACT, p, List.of(), t -> F.sqrt(t.get(0)));
        check("pow", EXACT, EXACT, p, List.of(), t -> F.pow(t.get(0), 1.5f));
        check("sigmoid", EXACT, EXACT, x, List.of(), t -> F.sigmoid(t.get(0)));
        check("logSigmoid", EXACT, EXACT, x, List.of(), t -> F.logSigmoid(t.get(0)));
        check("abs", EXACT, EXACT, x, List.of(), t -> F.abs(t.get(0)));
        check("addScalar", EXACT, EXACT, x, List.of(), t -> F.addScalar(t.get(0), -1f));
        check("clamp", EXACT, EXACT, x, List.of(), t -> F.clamp(t.get(0), -0.5f, 0.5f));
        check("clamp, one-sided", EXACT, EXACT, x, List.of(), t -> F.clamp(t.get(0), Float.NEGATIVE_INFINITY, 0.2f));
    }

    @Test
    void broadcastingBinaryOpsAndWhere() {
        Tensor a = Tensor.randn(31, 2, 3), col = Tensor.randn(32, 2, 1), row = Tensor.randn(33, 3), s = Tensor.randn(34);
        check("div", EXACT, EXACT, List.of(a, positive(35, 2, 3)), List.of(), t -> F.div(t.get(0), t.get(1)));
        check("div [2,3] / [2,1]", EXACT, EXACT, List.of(a, positive(36, 2, 1)), List.of(), t -> F.div(t.get(0), t.get(1)));
        check("mul [2,3] * [2,1] (advantages)", EXACT, EXACT, List.of(a, col), List.of(), t -> F.mul(t.get(0), t.get(1)));
        check("mul [2,3] * [3]", EXACT, EXACT, List.of(a, row), List.of(), t -> F.mul(t.get(0), t.get(1)));
        check("sub [2,1] - [3]", EXACT, EXACT, List.of(col, row), List.of(), t -> F.sub(t.get(0), t.get(1)));
        check("add [2,3] + [1] (scalar)", EXACT, EXACT, List.of(a, s), List.of(), t -> F.add(t.get(0), t.get(1)));
        check("minimum", EXACT, EXACT, List.of(a, Tensor.randn(37, 2, 3)), List.of(), t -> F.minimum(t.get(0), t.get(1)));
        check("maximum [2,3], [2,1]", EXACT, EXACT, List.of(a, col), List.of(), t -> F.maximum(t.get(0), t.get(1)));
        check("minimum with ties (half the gradient each)", EXACT, EXACT, List.of(a, a), List.of(), t -> F.minimum(t.get(0), t.get(1)));
        Tensor cond = Tensor.of(new float[] {1, 0, 1, 0, 0, 2}, 2, 3);
        check("where", EXACT, EXACT, List.of(a, Tensor.randn(38, 2, 3)), List.of(cond), t -> F.where(t.get(2), t.get(0), t.get(1)));
        check("where, broadcast [2,1] cond and [3] b", EXACT, EXACT, List.of(a, row), List.of(Tensor.of(new float[] {0, 1}, 2, 1)),
                t -> F.where(t.get(2), t.get(0), t.get(1)));
    }

    /**
     * The GRPO objective as grpo's GrpoLoss builds it (that module cannot be imported here, so the
     * expression is rebuilt from the same F ops): ratio = exp(logp − old), surrogate =
     * min(ratio·A, clip(ratio, 1 − ε_low, 1 + ε_high)·A), k3 KL = exp(ref − logp) − (ref − logp) − 1,
     * ℓ = −surrogate + β·KL, aggregated as "grpo" (per-sequence masked token mean, then the batch
     * mean) and as "bnpo" (masked token mean over the batch), with logp from the fused lm-head
     * (gradients reach h and the lm-head weight). Tolerance: that of the fused lm-head (1e-5
     * relative + 1e-6 absolute), every op after it giving the CPU's bits; old log-probs are logp
     * plus noise of 0.3 so that both clip bounds and the unclipped region occur.
     */
    @Test
    void grpoLossExpression() {
        int N = 2, T = 3, C = 5, V = 7;
        int[] targets = {3, 1, 0, 6, 5, 2};
        Tensor h = Tensor.randn(41, N, T, C), w = Tensor.randn(42, V, C);
        float[] lp = F.linearTokenLogProbs(h, w, targets).data();
        float[] noise = Tensor.randn(43, N, T).data(), noise2 = Tensor.randn(44, N, T).data();
        float[] old = new float[N * T], ref = new float[N * T];
        for (int i = 0; i < old.length; i++) { old[i] = lp[i] + 0.3f * noise[i]; ref[i] = lp[i] + 0.2f * noise2[i]; }
        Tensor mask = Tensor.of(new float[] {1, 1, 0, 1, 1, 1}, N, T);
        Tensor adv = Tensor.of(new float[] {0.7f, -1.2f}, N, 1);
        float epsLow = 0.2f, epsHigh = 0.28f, beta = 0.04f;
        int clippedLow = 0, clippedHigh = 0;
        for (int i = 0; i < old.length; i++) {
            double r = Math.exp(lp[i] - old[i]);
            if (r < 1 - epsLow) clippedLow++;
            if (r > 1 + epsHigh) clippedHigh++;
        }
        assertTrue(clippedLow > 0 && clippedHigh > 0, "the data must reach both clip bounds");
        for (String type : List.of("grpo", "bnpo"))
            check("GRPO loss (" + type + ")", 1e-5, 1e-6, List.of(h, w),
                    List.of(Tensor.of(old, N, T), Tensor.of(ref, N, T), adv, mask), x -> {
                        Tensor logp = F.reshape(F.linearTokenLogProbs(x.get(0), x.get(1), targets), N, T);
                        Tensor o = x.get(2), r = x.get(3), a = x.get(4), m = x.get(5);
                        Tensor ratio = F.exp(F.sub(logp, o));
                        Tensor clipped = F.clamp(ratio, 1 - epsLow, 1 + epsHigh);
                        Tensor perToken = F.neg(F.minimum(F.mul(ratio, a), F.mul(clipped, a)));
                        Tensor d = F.sub(r, logp);
                        Tensor kl = F.addScalar(F.sub(F.exp(d), d), -1f);
                        perToken = F.add(perToken, F.scale(kl, beta));
                        return type.equals("grpo") ? F.scale(F.sum(F.maskedMean(perToken, m, 1)), 1f / N)
                                : F.scale(F.maskedSum(perToken, m), 1f / 5);
                    });
    }
}
