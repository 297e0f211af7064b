package io.r1kit.grpo;

import io.r1kit.model.optim.AdamW;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The weights and optimizer state at the start of a training step, so the step can be undone. A
 * step makes several optimizer updates when it has several mini-batches or passes; when a later
 * update's loss or gradient is NaN/Inf the earlier ones were already applied, and "a non-finite step
 * is not applied" then means putting these back. Copies stay where the weights live (a device
 * parameter and its moments are copied on the device, no host transfer), at the cost of one more
 * copy of the weights and moments while the step runs.
 */
public final class StepUndo {
    private final List<Parameter> params = new ArrayList<>();
    private final List<Tensor> weights = new ArrayList<>();
    private final List<AdamW> optimizers;
    private final List<AdamW.Snapshot> snapshots = new ArrayList<>();

    private StepUndo(List<AdamW> optimizers) {
        this.optimizers = optimizers;
    }

    /** Copies the values of every parameter of {@code optimizers} and their state. */
    public static StepUndo take(AdamW... optimizers) {
        StepUndo u = new StepUndo(List.of(optimizers));
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AdamW opt : optimizers) {
            for (Parameter p : opt.params()) {
                if (!seen.add(p)) continue;
                u.params.add(p);
                u.weights.add(p.snapshot());
            }
            u.snapshots.add(opt.snapshot());
        }
        return u;
    }

    /** Puts the weights and optimizer states back as they were when taken (once). */
    public void restore() {
        for (int i = 0; i < params.size(); i++) params.get(i).restore(weights.get(i));
        for (int k = 0; k < optimizers.size(); k++) optimizers.get(k).restore(snapshots.get(k));
    }
}
