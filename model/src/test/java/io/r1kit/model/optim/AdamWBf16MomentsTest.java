package io.r1kit.model.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.tensor.Parameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@code adam_moments: bf16}: each step is the fp32 step from the stored moments, which are then kept as bf16 values. */
class AdamWBf16MomentsTest {

    static Parameter param(SplittableRandom r) {
        float[] d = new float[37];
        for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
        return new Parameter("w", d, d.length);
    }

    static void setGrad(Parameter p, SplittableRandom r) {
        p.zeroGrad();
        float[] g = p.gradBuffer();
        for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextGaussian() * 1e-2);
    }

    @Test
    void bf16MomentsEqualFp32StepsFromRoundedMoments() {
        SplittableRandom init = new SplittableRandom(1);
        Parameter a = param(init), b = new Parameter("w", a.data().clone(), 37);
        AdamW.Config c = new AdamW.Config(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f);
        AdamW bf16 = new AdamW(List.of(a), c).momentsBf16(true);
        AdamW fp32 = new AdamW(List.of(b), c);
        SplittableRandom ga = new SplittableRandom(2), gb = new SplittableRandom(2);
        for (int step = 0; step < 5; step++) {
            setGrad(a, ga);
            setGrad(b, gb);
            bf16.step();
            fp32.step();
            assertArrayEquals(b.data(), a.data(), "step " + step + ": the update itself is the fp32 one");
            // The reference keeps going from the moments bf16 storage would hold.
            AdamW.State s = fp32.exportState();
            Map<String, float[]> rounded = new HashMap<>();
            s.tensors().forEach((k, v) -> {
                float[] x = v.clone();
                for (int i = 0; i < x.length; i++) x[i] = FloatFormats.roundToBf16(x[i]);
                rounded.put(k, x);
            });
            assertNotEquals(0, countDiffs(s.tensors().get("w.v"), rounded.get("w.v")), "bf16 storage changes the moments");
            fp32.importState(new AdamW.State(rounded, s.scalars()));
            assertArrayEquals(rounded.get("w.m"), bf16.exportState().tensors().get("w.m"));
            assertArrayEquals(rounded.get("w.v"), bf16.exportState().tensors().get("w.v"));
        }
    }

    static int countDiffs(float[] a, float[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
