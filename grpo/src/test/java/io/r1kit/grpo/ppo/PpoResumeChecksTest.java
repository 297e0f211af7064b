package io.r1kit.grpo.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.train.CheckpointEdits;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO's resume makes GRPO's checks: a checkpoint of another seed or RNG scheme, or one that lacks a
 * tensor of the policy, is refused before any weight is loaded; another changed option only warns.
 */
class PpoResumeChecksTest {

    /** Two steps, checkpointed at step 2; returns the checkpoint. */
    private static Path twoSteps(Path dir) {
        PpoTrainerTest.trainer(PpoTrainerTest.config("max_steps", 2, "save_steps", 2), PpoTrainerTest.model(5), dir).build().train();
        return dir.resolve("checkpoints/checkpoint-2");
    }

    private static IllegalStateException resumeRefused(PpoConfig c, CausalLM m, Path dir) {
        return assertThrows(IllegalStateException.class, () -> PpoTrainerTest.trainer(c, m, dir).resume(true).build().train());
    }

    @Test
    void refusesAChangedSeed(@TempDir Path dir) {
        twoSteps(dir);
        var e = resumeRefused(PpoTrainerTest.config("max_steps", 4, "save_steps", 2, "seed", 43), PpoTrainerTest.model(5), dir);
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }

    @Test
    void refusesAChangedRngScheme(@TempDir Path dir) throws Exception {
        CheckpointEdits.setState(twoSteps(dir), "rng_scheme", "java.util.Random(seed)");
        var e = resumeRefused(PpoTrainerTest.config("max_steps", 4, "save_steps", 2), PpoTrainerTest.model(5), dir);
        assertTrue(e.getMessage().contains("RNG scheme 'java.util.Random(seed)'"), e.getMessage());
    }

    @Test
    void refusesACheckpointWithoutAPolicyTensor(@TempDir Path dir) {
        twoSteps(dir);
        CausalLM deeper = CausalLM.random(ModelConfig.llama(PpoTrainerTest.TOK.vocabSize(), 32, 64, 3, 4, 4).withInitStd(0.1), 5);
        var e = resumeRefused(PpoTrainerTest.config("max_steps", 4, "save_steps", 2), deeper, dir);
        assertTrue(e.getMessage().contains("has no tensor"), e.getMessage());
    }

    @Test
    void anotherChangedOptionResumes(@TempDir Path dir) {
        twoSteps(dir);
        PpoTrainer.Result r = PpoTrainerTest.trainer(PpoTrainerTest.config("max_steps", 3, "save_steps", 2, "learning_rate", 5e-3),
                PpoTrainerTest.model(5), dir).resume(true).build().train();
        assertEquals(3, r.steps());
    }
}
