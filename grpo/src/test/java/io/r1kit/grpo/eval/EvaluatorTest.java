package io.r1kit.grpo.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Example;
import io.r1kit.grpo.rollout.Rollouts.Prompt;
import io.r1kit.grpo.rollout.Rollouts.Sample;
import io.r1kit.model.generate.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The eval metrics on hand-made samples: pass@k, accuracy, lengths of correct and wrong answers, format rate. */
class EvaluatorTest {

    static Sample sample(int group, int length, boolean correct, boolean formatted, Double acc, Double fmt) {
        Prompt p = new Prompt(new Example("e" + group, Map.of()), "p", new int[] {1});
        return new Sample(group, p, new int[length], new float[length], "x", FinishReason.STOP, (acc == null ? 0 : acc) + 0.5 * (fmt == null ? 0 : fmt),
                new Double[] {acc, fmt}, correct, formatted);
    }

    @Test
    void passAtKAndLengths() {
        // 2 prompts × k = 2: prompt 0 has one correct (length 4) and one wrong (length 10); prompt 1 two wrong (6, 8)
        List<Sample> s = new ArrayList<>(List.of(sample(0, 4, true, true, 1.0, 1.0), sample(0, 10, false, false, 0.0, 0.0),
                sample(1, 6, false, true, 0.0, 1.0), sample(1, 8, false, false, null, 0.0)));
        Map<String, Double> m = Evaluator.metrics(s, 2, List.of("accuracy", "format"));
        assertEquals(0.5, m.get("pass@k"), 0, "pass@2: one of two prompts solved");
        assertEquals(0.25, m.get("accuracy"), 0, "pass@1 averaged over the 2 samples of each prompt");
        assertEquals(2.0, m.get("num_samples"), 0);
        assertEquals(4.0, m.get("completions/mean_length_correct"), 0);
        assertEquals(8.0, m.get("completions/mean_length_incorrect"), 0);
        assertEquals(7.0, m.get("completions/mean_length"), 0);
        assertEquals(0.5, m.get("format_rate"), 0);
        assertEquals(1.0 / 3, m.get("rewards/accuracy/mean"), 1e-12, "a null reward is left out of the mean");
        assertEquals(0.5, m.get("rewards/format/mean"), 0);
        assertEquals(2.0, m.get("num_examples"), 0);
        // greedy view of the same samples (k = 1): accuracy = fraction correct
        Map<String, Double> greedy = Evaluator.metrics(s, 1, List.of("accuracy", "format"));
        assertEquals(0.25, greedy.get("accuracy"), 0);
        assertFalse(greedy.containsKey("pass@k"), "no pass@k for one sample per prompt");
        assertTrue(Evaluator.metrics(List.of(sample(0, 3, false, false, 0.0, 0.0)), 1, List.of("accuracy", "format"))
                .get("completions/mean_length_correct").isNaN());
    }
}
