package io.r1kit.grpo;

import io.r1kit.model.ops.HostSums;
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
        return HostSums.maskedSum(x, mask, what);
    }

    /**
     * Whether every weight is finite. On a device: one sum of squares over all parameters (in
     * double, so no finite weight overflows it; NaN/Inf propagate), 8 bytes back.
     */
    public static boolean weightsFinite(List<Parameter> params) {
        return Parameter.allFinite(params);
    }
}
