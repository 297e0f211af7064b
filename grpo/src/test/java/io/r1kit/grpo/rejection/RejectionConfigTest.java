package io.r1kit.grpo.rejection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.rm.RewardModelConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RejectionConfigTest {

    @Test
    void defaultsBindingAndErrorsNameTheKey() {
        RejectionConfig d = RejectionConfig.defaults();
        assertEquals(4, d.samplesPerPrompt());
        assertEquals(RejectionConfig.JudgeKind.RULES, d.judge());
        assertEquals(0.95, d.languageThreshold());
        assertEquals(2000, d.maxParagraphChars());
        assertEquals(4, d.maxPerPrompt());
        RejectionConfig c = RejectionConfig.of(Map.of("judge", "generative", "samples_per_prompt", 16, "temperature", 0.0));
        assertEquals(RejectionConfig.JudgeKind.GENERATIVE, c.judge());
        assertEquals(0f, c.samplingParams().temperature());
        assertEquals(RejectionConfig.defaults(), RejectionConfig.of(RejectionConfig.defaults().toMap()));
        var e = assertThrows(IllegalArgumentException.class, () -> RejectionConfig.of(Map.of("samples_per_promt", 3)));
        assertTrue(e.getMessage().contains("samples_per_promt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RejectionConfig.of(Map.of("judge", "oracle")));
        assertTrue(e.getMessage().contains("judge"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RejectionConfig.of(Map.of("max_per_prompt", -1)));
        assertTrue(e.getMessage().contains("max_per_prompt"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RejectionConfig.of(Map.of("code_prompt_pattern", "(")));
        assertTrue(e.getMessage().contains("code_prompt_pattern"), e.getMessage());

        RewardModelConfig r = RewardModelConfig.defaults();
        assertEquals(1e-5, r.learningRate());
        assertEquals("chosen", r.chosenColumn());
        e = assertThrows(IllegalArgumentException.class, () -> RewardModelConfig.of(Map.of("eval_fraction", 1.0)));
        assertTrue(e.getMessage().contains("eval_fraction"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RewardModelConfig.of(Map.of("lerning_rate", 1.0)));
        assertTrue(e.getMessage().contains("lerning_rate"), e.getMessage());
    }
}
