package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.GrpoTrainer;
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
        return b.outputDir(ctx.dir().stageDir(s.name())).stage(s.name()).resume(true);
    }

    static GrpoTrainer.Builder grpo(GrpoTrainer.Builder b, RunContext ctx, StageSpec s) {
        return b.outputDir(ctx.dir().stageDir(s.name())).stage(s.name()).resume(true);
    }
}
