package io.r1kit.model.optim;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** AdamW vs a float64 transcription of torch.optim.AdamW, weight-decay groups, state save/restore. */
class AdamWTest {
    static final int N = 37;

    /** loss = sum((w - target)² · c) + sum(w³)/10: gradients that change with w, so the trajectory is not trivial. */
    private static void computeGrad(Parameter w, Tensor target, Tensor c) {
        Tensor d = F.sub(w, target);
        F.add(F.sum(F.mul(F.mul(d, d), c)), F.scale(F.sum(F.pow(w, 3f)), 0.1f)).backward();
    }

    private static double[] gradOf(double[] w, float[] target, float[] c) {
        double[] g = new double[w.length];
        for (int i = 0; i < w.length; i++) g[i] = 2 * (w[i] - target[i]) * c[i] + 0.3 * w[i] * w[i];
        return g;
    }

    @Test
    void trajectoryMatchesTorchAlgorithmInDouble() {
        Tensor target = TorchRef.randn(1, N), c = TorchRef.uniform(2, 0.5f, 2f, N);
        Parameter w = new Parameter("w", TorchRef.randn(3, N));
        AdamW.Config cfg = new AdamW.Config(0.05f, 0.9f, 0.95f, 1e-8f, 0.1f);
        AdamW opt = new AdamW(List.of(w), cfg);
        LrSchedule sched = LrSchedule.warmupCosine(0.05f, 3, 20, 0.1f);
        // torch.optim.AdamW (foreach=False) in double
        double[] p = new double[N], m = new double[N], v = new double[N];
        for (int i = 0; i < N; i++) p[i] = w.data()[i];
        for (int step = 1; step <= 20; step++) {
            float lr = sched.lr(step - 1);
            opt.zeroGrad();
            computeGrad(w, target, c);
            opt.setLr(lr);
            opt.step();
            double[] g = gradOf(p, target.data(), c.data());
            double bc1 = 1 - Math.pow(0.9, step), bc2 = 1 - Math.pow(0.95, step);
            for (int i = 0; i < N; i++) {
                p[i] *= 1 - (double) lr * 0.1;
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8;
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }
        float[] expected = new float[N];
        for (int i = 0; i < N; i++) expected[i] = (float) p[i];
        // 20 float32 steps vs double: each step's update is ~lr and rounds at ~1e-7 relative;
        // the gradient feedback can amplify differences mildly over 20 steps.
        TorchRef.assertClose("AdamW trajectory (float32 vs float64 over 20 steps)", expected, w.data(), 1e-5, 1e-5);
    }

    @Test
    void weightDecayOnlyInItsGroupAndParamsWithoutGradSkipped() {
        Parameter mat = new Parameter("mat", Tensor.full(2f, 2, 3));
        Parameter bias = new Parameter("bias", Tensor.full(2f, 3));
        Parameter unused = new Parameter("unused", Tensor.full(2f, 3));
        AdamW opt = new AdamW(AdamW.Config.defaults(0.1f), ParamGroup.decayMatricesOnly(List.of(mat, bias, unused), 0.5f));
        mat.gradBuffer();    // zero gradients: Adam's update is 0, only decay acts
        bias.gradBuffer();
        opt.step();
        assertEquals(2f * (1 - 0.1f * 0.5f), mat.data()[0], 1e-7f);
        assertEquals(2f, bias.data()[0]);
        assertEquals(2f, unused.data()[0]);
        var st = opt.exportState();
        assertEquals(1.0, st.scalars().get("mat.step"));
        assertEquals(0.0, st.scalars().get("unused.step"));
        assertEquals(null, st.tensors().get("unused.m"));
    }

    private static List<Parameter> freshParams() {
        SplittableRandom r = new SplittableRandom(9);
        return List.of(Parameter.randn("a", r, 1f, 4, 7), Parameter.randn("b", r, 1f, 7));
    }

    private static void trainSteps(List<Parameter> ps, AdamW opt, LrSchedule sched, int from, int to) {
        for (int s = from; s < to; s++) {
            opt.zeroGrad();
            Tensor x = TorchRef.randn(100 + s, 3, 7);
            Tensor y = F.add(F.linear(x, ps.get(0)), F.slice(ps.get(1), 0, 0, 4));
            F.sum(F.mul(y, y)).backward();
            GradClip.clipGlobalNorm(ps, 1.0);
            opt.setLr(sched.lr(s));
            opt.step();
        }
    }

    @Test
    void restoreThenStepIsBitIdenticalToUninterruptedRun() {
        LrSchedule sched = LrSchedule.warmupLinear(0.01f, 2, 8, 0f);
        AdamW.Config cfg = AdamW.Config.defaults(0.01f);
        List<Parameter> full = freshParams();
        AdamW optFull = new AdamW(full, cfg);
        trainSteps(full, optFull, sched, 0, 8);

        List<Parameter> first = freshParams();
        AdamW optFirst = new AdamW(first, cfg);
        trainSteps(first, optFirst, sched, 0, 4);
        AdamW.State saved = optFirst.exportState();
        // "checkpoint": copy the parameter values into a new model and a new optimizer
        List<Parameter> resumed = freshParams();
        for (int i = 0; i < 2; i++) resumed.get(i).copyFrom(first.get(i).data());
        AdamW optResumed = new AdamW(resumed, cfg);
        optResumed.importState(saved);
        trainSteps(resumed, optResumed, sched, 4, 8);
        for (int i = 0; i < 2; i++) assertArrayEquals(full.get(i).data(), resumed.get(i).data(), "param " + i);
        assertArrayEquals(optFull.exportState().tensors().get("a.v"), optResumed.exportState().tensors().get("a.v"));
    }

    @Test
    void importRejectsMismatchedState() {
        List<Parameter> ps = freshParams();
        AdamW opt = new AdamW(ps, AdamW.Config.defaults(0.01f));
        var bad = new AdamW.State(java.util.Map.of("zzz.m", new float[1], "zzz.v", new float[1]), java.util.Map.of());
        assertThrows(IllegalArgumentException.class, () -> opt.importState(bad));
        var wrongSize = new AdamW.State(java.util.Map.of("b.m", new float[3], "b.v", new float[3]), java.util.Map.of());
        assertThrows(IllegalArgumentException.class, () -> opt.importState(wrongSize));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(List.of(ps.get(0), ps.get(0)), AdamW.Config.defaults(1f)));
    }
}
