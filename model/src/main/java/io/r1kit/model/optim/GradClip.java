package io.r1kit.model.optim;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.DeviceStorage;
import io.r1kit.model.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of all gradients together (parameters without a gradient count as zero). */
    public static double globalNorm(List<? extends Parameter> params) {
        DeviceBackend dev = backendOf(params);
        try (DeviceArray acc = sumSquares(dev, params)) {
            return Math.sqrt(dev.readF64(acc, "gradient norm"));   // the metric: one 8-byte copy from a device
        }
    }

    /**
     * Scales all gradients by {@code maxNorm / (norm + 1e-6)} when that is below 1 (torch's
     * formula) and returns the norm BEFORE clipping (log it: spikes flag instability). A
     * non-finite norm is returned as is and the gradients are left untouched, so the caller can
     * decide to skip the step. The norm is read back (the step's one metric copy, which the
     * caller logs anyway).
     */
    public static double clipGlobalNorm(List<? extends Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGlobalNorm: maxNorm must be > 0, got " + maxNorm);
        DeviceBackend dev = backendOf(params);
        try (DeviceArray acc = sumSquares(dev, params)) {
            double norm = Math.sqrt(dev.readF64(acc, "gradient norm"));
            double coef = maxNorm / (norm + 1e-6);
            if (Double.isFinite(norm) && coef < 1) {
                for (Parameter p : params) {
                    DeviceArray g = p.deviceGrad();
                    if (g == null) continue;
                    // the host scales by the coefficient computed above in double; a device kernel computes
                    // it in float from the sum of squares it holds (clip_scale_f32): the two differ in the last bits
                    if (dev == Backends.HOST) dev.scale(g, g, (float) coef, p.numel());
                    else dev.clipByGlobalNorm(g, p.numel(), acc, (float) maxNorm);
                }
            }
            return norm;
        }
    }

    /** The backend all parameters live on (the host when all are on the host); a mix is an error. */
    private static DeviceBackend backendOf(List<? extends Parameter> params) {
        DeviceBackend dev = null;
        for (Parameter p : params) {
            DeviceBackend b = p.backend();
            if (dev == null) dev = b;
            else if (dev != b) {
                String other = dev == Backends.HOST ? b.name() : dev.name();
                if (dev == Backends.HOST || b == Backends.HOST)
                    throw new IllegalArgumentException("GradClip: some parameters live on " + other + " and some on the host; move them together");
                throw new IllegalArgumentException("GradClip: parameters live on two devices, " + dev.name() + " and " + b.name());
            }
        }
        if (dev == null) return Backends.HOST;
        DeviceStorage.releaseUnreachable(dev);   // a safe point before the device work
        return dev;
    }

    /** The global sum of squares of all gradients, accumulated in a double (F64 [1]) where they live. */
    private static DeviceArray sumSquares(DeviceBackend dev, List<? extends Parameter> params) {
        DeviceArray acc = dev.alloc(ElementType.F64, 1);   // zeroed, so every gradient may accumulate
        for (Parameter p : params) {
            DeviceArray g = p.deviceGrad();
            if (g != null) dev.sumInto(g, p.numel(), true, acc, true);
        }
        return acc;
    }
}
