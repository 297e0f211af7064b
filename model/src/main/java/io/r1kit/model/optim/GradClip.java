package io.r1kit.model.optim;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of all gradients together (parameters without a gradient count as zero). */
    public static double globalNorm(List<? extends Parameter> params) {
        Backend be = Backends.current();
        double ss = 0;
        for (Parameter p : params) {
            float[] g = p.gradData();
            if (g != null) ss += be.sumSquares(g, 0, g.length);
        }
        return Math.sqrt(ss);
    }

    /**
     * Scales all gradients by {@code maxNorm / (norm + 1e-6)} when that is below 1 (torch's
     * formula) and returns the norm BEFORE clipping (log it: spikes flag instability). A
     * non-finite norm is returned as is and the gradients are left untouched, so the caller can
     * decide to skip the step.
     */
    public static double clipGlobalNorm(List<? extends Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be > 0, got " + maxNorm);
        double norm = globalNorm(params);
        if (!Double.isFinite(norm)) return norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            Backend be = Backends.current();
            for (Parameter p : params) {
                float[] g = p.gradData();
                if (g != null) be.scale(g, 0, g, 0, (float) coef, g.length);
            }
        }
        return norm;
    }
}
