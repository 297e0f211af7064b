package io.r1kit.pipeline.run;

import java.nio.file.Path;

/** Runs one stage type. Implementations live in {@code run.stages}, one class per type. */
public interface StageRunner {

    /** Binds and checks the stage's options without running anything (for {@code validate}). */
    void validate(RunContext ctx, StageSpec stage);

    /**
     * Runs the stage, resuming from its last checkpoint when one exists.
     *
     * @param inputModel the HF directory the stage starts from (null for stages that need none)
     * @return the HF directory of the stage's final model, or null if the stage makes no model
     */
    Path run(RunContext ctx, StageSpec stage, Path inputModel) throws Exception;

    /** Whether the stage produces a model the next stage starts from (training stages do; eval and reward-model stages do not). */
    default boolean producesModel() {
        return true;
    }

    /** Whether the stage needs a starting model. */
    default boolean needsModel() {
        return true;
    }
}
