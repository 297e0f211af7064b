package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * One AdamW step (see {@link io.r1kit.model.backend.Backend#adamw}), the same update as
 * torch.optim.AdamW (decoupled weight decay applied to p before the Adam step):
 * p *= 1 - lr*wd;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 * p -= lr * (m / bc1) / (sqrt(v / bc2) + eps).
 */
public final class AdamWKernel {
    private AdamWKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) {
        check("adamw", p, g, m, v, n, bc1, bc2);
        float decay = 1f - lr * weightDecay;
        float stepSize = lr / bc1;
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(bc2));
        float c1 = 1f - beta1, c2 = 1f - beta2;
        Parallel.forRange(n, Elementwise.GRAIN / 2, (from, to) -> stepRange(p, g, m, v, beta1, beta2, eps, decay, stepSize, invSqrtBc2, c1, c2, from, to));
    }

    public static void adamwReference(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) {
        check("adamwReference", p, g, m, v, n, bc1, bc2);
        for (int i = 0; i < n; i++) {
            p[i] -= lr * weightDecay * p[i];
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double mHat = m[i] / (double) bc1;
            double vHat = v[i] / (double) bc2;
            p[i] = (float) (p[i] - lr * mHat / (Math.sqrt(vHat) + eps));
        }
    }

    private static void check(String op, float[] p, float[] g, float[] m, float[] v, int n, float bc1, float bc2) {
        KernelChecks.dims(op, "n", n);
        KernelChecks.Shape shape = () -> "[n=" + n + "]";
        KernelChecks.fits(op, "p", p, n, shape);
        KernelChecks.fits(op, "g", g, n, shape);
        KernelChecks.fits(op, "m", m, n, shape);
        KernelChecks.fits(op, "v", v, n, shape);
        if (!(bc1 > 0f && bc1 <= 1f && bc2 > 0f && bc2 <= 1f)) {
            throw new IllegalArgumentException(op + ": bias corrections must be in (0, 1] (bc = 1 - beta^t, t >= 1), got bc1="
                    + bc1 + " bc2=" + bc2);
        }
    }

    /** The update over [from, to). */
    private static void stepRange(float[] p, float[] g, float[] m, float[] v, float beta1, float beta2, float eps, float decay, float stepSize, float invSqrtBc2, float c1, float c2, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, g, i);
            FloatVector mv = FloatVector.fromArray(S, m, i).mul(beta1).add(gv.mul(c1));
            FloatVector vv = FloatVector.fromArray(S, v, i).mul(beta2).add(gv.mul(gv).mul(c2));
            mv.intoArray(m, i);
            vv.intoArray(v, i);
            FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(invSqrtBc2).add(eps);
            FloatVector.fromArray(S, p, i).mul(decay).sub(mv.div(denom).mul(stepSize)).intoArray(p, i);
        }
        for (; i < to; i++) {
            float mi = beta1 * m[i] + c1 * g[i];
            float vi = beta2 * v[i] + c2 * g[i] * g[i];
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay - stepSize * (mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps));
        }
    }

}
