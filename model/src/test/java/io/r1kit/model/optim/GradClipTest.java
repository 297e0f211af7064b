package io.r1kit.model.optim;

import io.r1kit.model.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Global-norm clipping as torch.nn.utils.clip_grad_norm_ (exact small numbers). */
class GradClipTest {
    @Test
    void clipsToMaxNormAndReturnsPreClipNorm() {
        Parameter a = Parameter.zeros("a", 2), b = Parameter.zeros("b", 1), none = Parameter.zeros("none", 3);
        a.gradBuffer()[0] = 3;
        a.gradBuffer()[1] = 4;
        b.gradBuffer()[0] = 12;   // global norm = sqrt(9 + 16 + 144) = 13
        double norm = GradClip.clipGlobalNorm(List.of(a, b, none), 6.5);
        assertEquals(13.0, norm, 1e-12);
        double coef = 6.5 / (13 + 1e-6);   // torch's formula
        assertArrayEquals(new float[] {(float) (3 * coef), (float) (4 * coef)}, a.gradData(), 1e-6f);
        assertEquals(6.5, GradClip.globalNorm(List.of(a, b)), 1e-5);
        // below the threshold nothing changes
        double n2 = GradClip.clipGlobalNorm(List.of(a, b), 100);
        assertEquals(6.5, n2, 1e-5);
        assertEquals((float) (12 * coef), b.gradData()[0]);
    }

    @Test
    void nonFiniteNormLeavesGradientsAlone() {
        Parameter a = Parameter.zeros("a", 2);
        a.gradBuffer()[0] = Float.NaN;
        a.gradBuffer()[1] = 1;
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(a), 1.0)));
        assertEquals(1f, a.gradData()[1]);
    }
}
