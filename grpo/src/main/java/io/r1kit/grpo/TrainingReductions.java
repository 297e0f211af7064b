package io.r1kit.grpo;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.List;

/**
 * The metric reductions the RL trainers share, on the host (loops in double, as before) or, for
 * device tensors, as device reductions of which only the result crosses: the whole point is that
 * no [N, T] tensor is read back for a metric.
 */
public final class TrainingReductions {
    private TrainingReductions() {}

    /** Σ x·mask: a host loop (double), or one device reduction read back as 4 bytes labelled {@code what}. */
    public static double maskedSum(Tensor x, Tensor mask, String what) {
        if (!x.isOnDevice()) {
            float[] e = x.data(), m = mask.data();
            double s = 0;
            for (int k = 0; k < m.length; k++) if (m[k] != 0) s += e[k] * m[k];
            return s;
        }
        try (var ng = Grad.noGrad()) {
            return F.maskedSum(x, mask).item(what);
        }
    }

    /**
     * Whether every weight is finite. On a device: one sum of squares over all parameters (in
     * double, so no finite weight overflows it; NaN/Inf propagate), 8 bytes back.
     */
    public static boolean weightsFinite(List<Parameter> params) {
        DeviceBackend dev = params.isEmpty() ? null : params.get(0).device();
        if (dev == null) {
            for (Parameter p : params) for (float v : p.data()) if (!Float.isFinite(v)) return false;
            return true;
        }
        try (DeviceArray acc = dev.alloc(ElementType.F64, 1)) {
            boolean first = true;
            for (Parameter p : params) {
                dev.sumInto(p.deviceArray("finite check"), p.numel(), true, acc, !first);
                first = false;
            }
            return Double.isFinite(dev.readF64(acc, "weights finite check"));
        }
    }
}
