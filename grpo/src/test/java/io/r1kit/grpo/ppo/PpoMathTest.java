package io.r1kit.grpo.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** GAE and the PPO loss on hand-computed cases (float32 on numbers of order 1: tolerance 1e-6). */
class PpoMathTest {

    @Test
    void gaeByHand() {
        // γ = 1, λ = 0.5, r = [0, 0, 1], V = [0.5, 0.2, 0.4]
        // t=2: δ = 1 − 0.4 = 0.6, A = 0.6;  t=1: δ = 0.4 − 0.2 = 0.2, A = 0.2 + 0.5·0.6 = 0.5;  t=0: δ = 0.2 − 0.5, A = −0.3 + 0.25
        Gae.Result g = Gae.compute(new float[] {0, 0, 1}, new float[] {0.5f, 0.2f, 0.4f}, 1.0, 0.5);
        assertArrayEquals(new float[] {-0.05f, 0.5f, 0.6f}, g.advantages(), 1e-6f);
        assertArrayEquals(new float[] {0.45f, 0.7f, 1.0f}, g.returns(), 1e-6f);
        // λ = 1, γ = 1: the return is the sum of the remaining rewards (Monte Carlo)
        Gae.Result mc = Gae.compute(new float[] {0.1f, 0, 1}, new float[] {0.5f, 0.2f, 0.4f}, 1.0, 1.0);
        assertArrayEquals(new float[] {1.1f, 1f, 1f}, mc.returns(), 1e-6f);
        // γ = 0.5, λ = 0: one-step TD, A_t = r_t + γ V_{t+1} − V_t
        Gae.Result td = Gae.compute(new float[] {0, 0, 1}, new float[] {0.5f, 0.2f, 0.4f}, 0.5, 0.0);
        assertArrayEquals(new float[] {0.1f - 0.5f, 0.2f - 0.2f, 0.6f}, td.advantages(), 1e-6f);
    }

    @Test
    void valueClippingByHand() {
        // three tokens, ratio 1 (logp = old), A = 0 so only the value loss counts; ε_v = 0.2, vf_coef = 1
        //  V=1.0, Vold=0.5, R=0: V̂=0.7 → max(1.0², 0.7²) = 1 → ½;   d/dV = V − R = 1
        //  V=0.1, Vold=0.5, R=0: V̂=0.3 → max(0.01, 0.09) = 0.09 → 0.045 (clipped: d/dV = 0)
        //  V=0.0, Vold=0.5, R=1: V̂=0.3 → max(1, 0.49) = 1 → ½;       d/dV = V − R = −1
        Tensor v = Tensor.of(new float[] {1f, 0.1f, 0f}, 1, 3).requiresGrad(true);
        Tensor zeros = Tensor.zeros(1, 3);
        PpoLoss.Result r = PpoLoss.compute(Tensor.zeros(1, 3).requiresGrad(true), zeros, zeros, v, Tensor.of(new float[] {0.5f, 0.5f, 0.5f}, 1, 3),
                Tensor.of(new float[] {0, 0, 1}, 1, 3), Tensor.ones(1, 3), 0.2, 0.2, 1.0, 3);
        assertEquals((0.5 + 0.045 + 0.5) / 3, r.loss().item(), 1e-6);
        assertEquals(1.0, r.vfClipped(), 0);
        r.loss().backward();
        assertArrayEquals(new float[] {1f / 3, 0, -1f / 3}, v.gradData(), 1e-6f);
    }

    @Test
    void policyTermIsTheClippedSurrogateWithTokenAdvantages() {
        // ratios 1.5 (A = 1 → clipped at 1.2) and 1.5 (A = −1 → not clipped), ε = 0.2, tokens 2
        float l15 = (float) Math.log(1.5);
        Tensor logp = Tensor.of(new float[] {l15, l15}, 1, 2).requiresGrad(true);
        Tensor zeros = Tensor.zeros(1, 2);
        PpoLoss.Result r = PpoLoss.compute(logp, zeros, Tensor.of(new float[] {1, -1}, 1, 2), Tensor.zeros(1, 2).requiresGrad(true), zeros,
                zeros, Tensor.ones(1, 2), 0.2, 0.2, 0.0, 2);
        // (−1.2 + 1.5) / 2 = 0.15;  d/dlogp: 0 (clipped), −A·r/2 = 0.75
        assertEquals(0.15f, r.loss().item(), 1e-6f);
        assertEquals(1.0, r.clipped(), 0);
        r.loss().backward();
        assertArrayEquals(new float[] {0f, 0.75f}, logp.gradData(), 1e-6f);
    }
}
