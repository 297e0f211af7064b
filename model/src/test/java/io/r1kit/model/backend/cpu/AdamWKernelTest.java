package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** AdamW: fast vs reference over several steps, the first step by hand, and torch.optim.AdamW's update in libtorch. */
class AdamWKernelTest {
    private static final float LR = 1e-2f, B1 = 0.9f, B2 = 0.95f, EPS = 1e-8f, WD = 0.1f;

    private static float bc(float beta, int t) {
        return (float) (1 - Math.pow(beta, t));
    }

    @Test
    void fastMatchesReferenceOverSteps() {
        Random rnd = new Random(50);
        for (int n : new int[] {1, 7, 33, 129, 70_001}) {
            float[] p1 = gaussian(rnd, n, 1), p2 = p1.clone();
            float[] m1 = new float[n], m2 = new float[n], v1 = new float[n], v2 = new float[n];
            for (int t = 1; t <= 5; t++) {
                float[] g = gaussian(rnd, n, 1);
                AdamWKernel.adamw(p1, g, m1, v1, n, LR, B1, B2, EPS, WD, bc(B1, t), bc(B2, t));
                AdamWKernel.adamwReference(p2, g, m2, v2, n, LR, B1, B2, EPS, WD, bc(B1, t), bc(B2, t));
            }
            // same update; fast is float throughout (sqrt, divide) vs the reference's double for
            // the final quotient: |dp| ~ lr per step, so errors ~ lr * 1e-6 over 5 steps
            assertClose("m n=" + n, m2, m1, 1e-7, 1e-6);
            assertClose("v n=" + n, v2, v1, 1e-7, 1e-6);
            assertClose("p n=" + n, p2, p1, 1e-7, 1e-6);
        }
    }

    @Test
    void firstStepByHand() {
        // step 1: m_hat = g, v_hat = g^2, so p1 = p0 (1 - lr wd) - lr g / (|g| + eps)
        float[] p = {1f, -2f, 0.5f}, g = {0.3f, -4f, 0f};
        float[] m = new float[3], v = new float[3];
        AdamWKernel.adamw(p, g, m, v, 3, LR, B1, B2, EPS, WD, bc(B1, 1), bc(B2, 1));
        double[] expected = {1 * (1 - LR * WD) - LR * 0.3 / (0.3 + EPS), -2 * (1 - LR * WD) + LR * 4 / (4 + EPS), 0.5 * (1 - LR * WD)};
        for (int i = 0; i < 3; i++) assertEquals(expected[i], p[i], 1e-6, "p[" + i + "]");
        assertEquals(0.1f * 0.3f, m[0], 1e-8);
        assertEquals(0.05f * 16f, v[1], 1e-6);
    }

    @Test
    void referenceMatchesTorchAdamWFormula() {
        // torch.optim.AdamW (single tensor, foreach off), written with libtorch ops:
        //   param.mul_(1 - lr*wd); exp_avg.lerp_(grad, 1-b1); exp_avg_sq.mul_(b2).addcmul_(grad, grad, 1-b2)
        //   denom = exp_avg_sq.sqrt() / sqrt(bc2) + eps; param.addcdiv_(exp_avg, denom, -lr/bc1)
        Random rnd = new Random(51);
        int n = 257;
        float[] p = gaussian(rnd, n, 1), m = new float[n], v = new float[n];
        try (NDManager mg = torch()) {
            NDArray tp = mg.create(p.clone()), tm = mg.zeros(tp.getShape()), tv = mg.zeros(tp.getShape());
            for (int t = 1; t <= 6; t++) {
                float[] g = gaussian(rnd, n, t == 3 ? 1e-3 : 1);   // one step with tiny gradients (eps matters)
                AdamWKernel.adamwReference(p, g, m, v, n, LR, B1, B2, EPS, WD, bc(B1, t), bc(B2, t));
                NDArray tg = mg.create(g);
                tp = tp.mul(1 - LR * WD);
                tm = tm.add(tg.sub(tm).mul(1 - B1));
                tv = tv.mul(B2).add(tg.mul(tg).mul(1 - B2));
                double bc1 = 1 - Math.pow(B1, t), bc2 = 1 - Math.pow(B2, t);
                NDArray denom = tv.sqrt().div((float) Math.sqrt(bc2)).add(EPS);
                tp = tp.sub(tm.div(denom).mul((float) (LR / bc1)));
            }
            // fp32 torch vs our float state + double quotient: m, v identical formulas up to the
            // lerp-vs-(b1 m + (1-b1) g) rounding; p moves by ~lr per step: 1e-6 relative.
            assertClose("m vs torch", tm.toFloatArray(), m, 1e-7, 1e-5);
            assertClose("v vs torch", tv.toFloatArray(), v, 1e-9, 1e-5);
            assertClose("p vs torch", tp.toFloatArray(), p, 2e-7, 1e-6);
        }
    }
}
