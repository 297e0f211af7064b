package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.GrpoTrainer;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.ppo.PpoTrainer;
import io.r1kit.grpo.sft.SftTrainer;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;

/**
 * Points a trainer at its stage's place in the run directory. Every trainer resumes: rerunning a
 * run continues the interrupted stage from its last checkpoint.
 */
final class StageOutputs {
    private StageOutputs() {}

    static SftTrainer.Builder sft(SftTrainer.Builder b, RunContext ctx, StageSpec s) {
        return b.outputs(paths(ctx, s)).stage(s.name()).resume(true);
    }

    static GrpoTrainer.Builder grpo(GrpoTrainer.Builder b, RunContext ctx, StageSpec s) {
        return b.outputs(paths(ctx, s)).stage(s.name()).resume(true);
    }

    static PpoTrainer.Builder ppo(PpoTrainer.Builder b, RunContext ctx, StageSpec s) {
        return b.outputs(paths(ctx, s)).stage(s.name()).resume(true);
    }

    /**
     * The run directory's contract: {@code checkpoints/<stage>/checkpoint-N/} and {@code final/},
     * {@code samples/<stage>/step-N.jsonl}, and the run's one {@code metrics.jsonl}, written live
     * (each line tagged with its stage; a resumed stage drops only its own lines after the checkpoint).
     */
    static OutputPaths paths(RunContext ctx, StageSpec s) {
        return new OutputPaths(ctx.dir().checkpoints(s.name()), ctx.dir().samples(s.name()), ctx.dir().metricsFile(),
                ctx.dir().finalModel(s.name()));
    }
}
