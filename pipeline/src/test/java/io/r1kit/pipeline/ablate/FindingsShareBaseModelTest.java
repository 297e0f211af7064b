package io.r1kit.pipeline.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.pipeline.findings.Finding;
import io.r1kit.pipeline.run.Pipeline;
import io.r1kit.pipeline.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The findings over the quickstart's universe share its base model: the teacher's pretraining in
 * distill-vs-rl is the clip-higher runs' pretraining, stage for stage, so it is run once for both
 * (findings borrow completed stages from the findings beside them).
 */
class FindingsShareBaseModelTest {
    static final Path DIR = Path.of("..", "configs", "findings").toAbsolutePath().normalize();

    private static Pipeline first(Finding f) {
        Ablation.Combo c = f.ablation().combos().get(0);
        return Pipeline.prepare(f.ablation().baseConfig(), c.overrides(), c.runDir());
    }

    @Test
    void distillVsRlBorrowsTheQuickstartPretrainingOfClipHigher(@TempDir Path tmp) {
        Finding clip = new Finding(DIR.resolve("clip-higher-entropy.yaml"), List.of(), List.of(), 0, tmp.resolve("clip"));
        Finding distill = new Finding(DIR.resolve("distill-vs-rl.yaml"), List.of(), List.of(), 0, tmp.resolve("distill"));
        Pipeline lenderRun = first(clip), borrower = first(distill);
        RunDirectory lender = new RunDirectory(tmp.resolve("lender"));
        lender.markCompleted("pretrain", Map.of());
        lender.markCompleted("base_eval", Map.of());
        JsonNode mine = borrower.context().loaded().resolved(), theirs = lenderRun.context().loaded().resolved();
        assertEquals("pretrain", borrower.stages().get(0).name());
        assertEquals(1, Ablation.sharedPrefix(mine, theirs, lender, borrower.stages()),
                "same data, tokenizer, model, rewards and pretrain stage: the pretraining is shared, the stages after it are not");
    }
}
