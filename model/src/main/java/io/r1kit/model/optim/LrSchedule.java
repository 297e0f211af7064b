package io.r1kit.model.optim;

/**
 * Learning rate as a function of the optimizer step (0-based: the lr for the step about to run).
 * Usage: {@code opt.setLr(schedule.lr(step)); opt.step();}
 *
 * <p>Warm-up is linear with lr·(step + 1)/warmup, so step 0 already trains (lr/warmup) and step
 * warmup-1 reaches the full lr. (Hugging Face's get_*_schedule_with_warmup uses step/warmup and
 * spends step 0 at lr 0; shift by one step when comparing curves.)
 */
@FunctionalInterface
public interface LrSchedule {
    float lr(long step);

    /** The same lr at every step. */
    static LrSchedule constant(float lr) {
        return step -> lr;
    }

    /** Linear warm-up to lr over {@code warmup} steps, then constant. */
    static LrSchedule warmupConstant(float lr, long warmup) {
        return step -> step < warmup ? lr * (step + 1) / warmup : lr;
    }

    /**
     * Linear warm-up over {@code warmup} steps, then linear decay to {@code minRatio·lr} at
     * {@code total} steps (held there afterwards).
     */
    static LrSchedule warmupLinear(float lr, long warmup, long total, float minRatio) {
        check(warmup, total, minRatio);
        return step -> {
            if (step < warmup) return lr * (step + 1) / warmup;
            double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
            return (float) (lr * (1.0 - (1.0 - minRatio) * progress));
        };
    }

    /**
     * Linear warm-up over {@code warmup} steps, then half-cosine decay from lr to
     * {@code minRatio·lr} at {@code total} steps (held there afterwards).
     */
    static LrSchedule warmupCosine(float lr, long warmup, long total, float minRatio) {
        check(warmup, total, minRatio);
        return step -> {
            if (step < warmup) return lr * (step + 1) / warmup;
            double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
            double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
            return (float) (lr * (minRatio + (1 - minRatio) * cosine));
        };
    }

    private static void check(long warmup, long total, float minRatio) {
        if (warmup < 0 || total < warmup)
            throw new IllegalArgumentException("lr schedule: need 0 <= warmup <= total, got warmup " + warmup + ", total " + total);
        if (!(minRatio >= 0 && minRatio <= 1))
            throw new IllegalArgumentException("lr schedule: minRatio must be in [0, 1], got " + minRatio);
    }
}
