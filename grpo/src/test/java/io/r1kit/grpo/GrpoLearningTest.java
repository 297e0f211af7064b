package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.metrics.MetricsLog;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end learning on CPU, seeded: GRPO on "copy the digit" with a random tiny model must raise
 * the mean reward of the last 20% of steps above that of the first 20% by at least {@link #MARGIN}.
 */
class GrpoLearningTest {

    /** Required gain in mean reward (chance level is about 1/17; the trained policy copies most digits). */
    static final double MARGIN = 0.3;

    @Test
    void rewardRisesOnATriviallyLearnableTask(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        GrpoConfig config = GrpoConfig.of(Map.of("prompts_per_step", 8, "num_generations", 8, "max_completion_length", 2,
                "learning_rate", 1e-2, "lr_scheduler", "constant", "max_steps", 40, "save_steps", 0, "log_completions_steps", 20,
                "max_prompt_length", 8));
        long t0 = System.nanoTime();
        GrpoTrainer.Result r = task.trainer(config, task.model(3), dir).build().train();
        double secs = (System.nanoTime() - t0) / 1e9;
        assertEquals(40, r.steps());
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(40, lines.size());
        double first = 0, last = 0;
        for (int i = 0; i < 8; i++) first += lines.get(i).get("reward").asDouble() / 8;
        for (int i = 32; i < 40; i++) last += lines.get(i).get("reward").asDouble() / 8;
        System.out.printf("GrpoLearningTest: mean reward first 20%% %.3f, last 20%% %.3f, %.1f s%n", first, last, secs);
        assertTrue(last - first >= MARGIN, "mean reward rose from " + first + " to " + last + ", need +" + MARGIN);
    }
}
