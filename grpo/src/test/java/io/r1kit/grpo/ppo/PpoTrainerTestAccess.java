package io.r1kit.grpo.ppo;

import io.r1kit.model.arch.CausalLM;
import java.nio.file.Path;

/** PpoTrainerTest's toy PPO run, for tests in other packages. */
public final class PpoTrainerTestAccess {
    private PpoTrainerTestAccess() {}

    public static CausalLM model(long seed) {
        return PpoTrainerTest.model(seed);
    }

    /** PpoTrainerTest's config (two PPO epochs) with {@code kv} replaced, trained to the end. */
    public static PpoTrainer.Result run(CausalLM m, Path dir, Object... kv) {
        return PpoTrainerTest.trainer(PpoTrainerTest.config(kv), m, dir).build().train();
    }
}
