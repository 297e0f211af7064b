package io.r1kit.model.optim;

import io.r1kit.model.backend.Backend;
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
        DeviceBackend dev = deviceOf(params);
        if (dev != null) {
            try (DeviceArray acc = sumSquaresOnDevice(dev, params)) {
                return Math.sqrt(dev.readF64(acc, "gradient norm"));   // the metric: one 8-byte copy
            }
        }
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
        DeviceBackend dev = deviceOf(params);
        if (dev != null) return clipOnDevice(dev, params, maxNorm);
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

    /** The device all parameters live on, or null when all are on the host; a mix is an error. */
    private static DeviceBackend deviceOf(List<? extends Parameter> params) {
        DeviceBackend dev = null;
        boolean host = false;
        for (Parameter p : params) {
            if (!p.isOnDevice()) { host = true; continue; }
            if (dev != null && dev != p.device())
                throw new IllegalArgumentException("GradClip: parameters live on two devices, " + dev.name() + " and " + p.device().name());
            dev = p.device();
        }
        if (dev != null && host)
            throw new IllegalArgumentException("GradClip: some parameters live on " + dev.name() + " and some on the host; move them together");
        if (dev != null) DeviceStorage.releaseUnreachable(dev);   // a safe point before the device work
        return dev;
    }

    /** The global sum of squares of all device gradients, accumulated in a device double (F64 [1]). */
    private static DeviceArray sumSquaresOnDevice(DeviceBackend dev, List<? extends Parameter> params) {
        DeviceArray acc = dev.alloc(ElementType.F64, 1);   // zeroed, so every gradient may accumulate
        for (Parameter p : params) {
            DeviceArray g = p.deviceGrad();
            if (g != null) dev.sumInto(g, p.numel(), true, acc, true);
        }
        return acc;
    }

    /**
     * Same contract as on the host: the norm is read back (the step's one metric copy, which the
     * caller logs anyway), and the gradients are scaled on the device by the kernel that reads
     * the sum of squares there, only when the norm is finite and above maxNorm.
     */
    private static double clipOnDevice(DeviceBackend dev, List<? extends Parameter> params, double maxNorm) {
        try (DeviceArray acc = sumSquaresOnDevice(dev, params)) {
            double norm = Math.sqrt(dev.readF64(acc, "gradient norm"));
            if (Double.isFinite(norm) && maxNorm / (norm + 1e-6) < 1) {
                for (Parameter p : params) {
                    DeviceArray g = p.deviceGrad();
                    if (g != null) dev.clipByGlobalNorm(g, p.numel(), acc, (float) maxNorm);
                }
            }
            return norm;
        }
    }
}
