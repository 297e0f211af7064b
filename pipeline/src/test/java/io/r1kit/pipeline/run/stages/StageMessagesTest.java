package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.sft.SftTrainer;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a stage prints says nothing where there is nothing to say: no "kl NaN", no "eval loss NaN". */
class StageMessagesTest {

    @Test
    void progressBarLeavesOutMetricsWithoutAValue() {
        Map<String, Object> m = new HashMap<>();
        m.put("reward", 0.5);
        m.put("rewards/accuracy/mean", 0.25);
        m.put("kl", Double.NaN);                       // beta = 0: no reference model, no KL
        m.put("completions/mean_length", 31.0);
        assertEquals(" reward 0.500 acc 0.250 len 31.000", ProgressDisplay.message(m));
        m.put("kl", 0.0123);
        assertEquals(" reward 0.500 acc 0.250 kl 0.012 len 31.000", ProgressDisplay.message(m));
        m.remove("rewards/accuracy/mean");
        m.put("kl", null);
        assertEquals(" reward 0.500 len 31.000", ProgressDisplay.message(m));
    }

    @Test
    void sftFinishedLineHasTheEvalLossOnlyWithAnEvalSet() {
        SftTrainer.Result noEval = new SftTrainer.Result(3, 4.05321, Double.NaN, 1000, 30.2, null, false);
        assertEquals("pretrain finished: 3 steps, train loss 4.0532, 30 tokens/s", SftStage.finishedLine("pretrain", noEval));
        SftTrainer.Result withEval = new SftTrainer.Result(3, 4.05321, 3.9, 1000, 30.2, null, false);
        assertEquals("pretrain finished: 3 steps, train loss 4.0532, eval loss 3.9000, 30 tokens/s", SftStage.finishedLine("pretrain", withEval));
    }
}
