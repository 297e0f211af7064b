package io.r1kit.grpo.rm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

class BradleyTerryLossTest {

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void valueAndGradientMatchTheHandComputedFormula() {
        float[] c = {1.5f, -0.25f, 3f}, r = {0.5f, 0.75f, -2f};
        Tensor tc = Tensor.of(c, 3).requiresGrad(true), tr = Tensor.of(r, 3).requiresGrad(true);
        Tensor loss = BradleyTerryLoss.loss(tc, tr);
        double expected = 0;
        for (int i = 0; i < 3; i++) expected += -Math.log(sigmoid(c[i] - r[i]));
        expected /= 3;
        // float32 logSigmoid of margins in [-1, 5]: ~1e-7 relative error
        assertEquals(expected, loss.item(), 1e-6);
        loss.backward();
        for (int i = 0; i < 3; i++) {
            double g = -(1 - sigmoid(c[i] - r[i])) / 3;   // ∂/∂r_c
            assertEquals(g, tc.grad().data()[i], 1e-6, "d loss / d chosen[" + i + "]");
            assertEquals(-g, tr.grad().data()[i], 1e-6, "d loss / d rejected[" + i + "]");
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesWithCentring() {
        float[] c = {0.3f, -1.2f, 2.2f, 0.1f}, r = {0.9f, -1.0f, 0.4f, 0.1f};
        double coef = 0.01;
        Tensor tc = Tensor.of(c, 4).requiresGrad(true), tr = Tensor.of(r, 4).requiresGrad(true);
        BradleyTerryLoss.loss(tc, tr, coef).backward();
        double h = 1e-3;
        for (int i = 0; i < 4; i++) {
            double num = (lossAt(c, r, coef, i, h, true) - lossAt(c, r, coef, i, -h, true)) / (2 * h);
            // central difference in double of a smooth function: error O(h²) ≈ 1e-7; float32 grads: ~1e-6
            assertEquals(num, tc.grad().data()[i], 1e-5, "chosen[" + i + "]");
            num = (lossAt(c, r, coef, i, h, false) - lossAt(c, r, coef, i, -h, false)) / (2 * h);
            assertEquals(num, tr.grad().data()[i], 1e-5, "rejected[" + i + "]");
        }
    }

    /** The loss in double with one input moved by delta. */
    static double lossAt(float[] c, float[] r, double coef, int i, double delta, boolean chosen) {
        double s = 0, cent = 0;
        for (int k = 0; k < c.length; k++) {
            double ck = c[k] + (chosen && k == i ? delta : 0), rk = r[k] + (!chosen && k == i ? delta : 0);
            s += Math.log1p(Math.exp(-(ck - rk)));
            cent += (ck + rk) * (ck + rk);
        }
        return s / c.length + coef * cent / c.length;
    }

    @Test
    void largeNegativeMarginIsFiniteAndLinear() {
        Tensor loss = BradleyTerryLoss.loss(Tensor.vector(-100f), Tensor.vector(100f));
        assertEquals(200.0, loss.item(), 1e-3);   // −log σ(−200) = 200 + log(1 + e^−200)
    }

    @Test
    void accuracyCountsStrictWinsAndRejectsMismatchedShapes() {
        assertEquals(0.5, BradleyTerryLoss.accuracy(new float[] {1, 2, 3, 0}, new float[] {0, 2, 4, -1}) - 0.0, 1e-12);
        assertTrue(Double.isNaN(BradleyTerryLoss.accuracy(new float[0], new float[0])));
        assertThrows(IllegalArgumentException.class, () -> BradleyTerryLoss.loss(Tensor.vector(1f, 2f), Tensor.vector(1f)));
    }
}
