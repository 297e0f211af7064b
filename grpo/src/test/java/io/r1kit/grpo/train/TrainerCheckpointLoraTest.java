package io.r1kit.grpo.train;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.lora.LoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A resumed LoRA run whose adapter settings changed is reported like any changed option. */
class TrainerCheckpointLoraTest {

    private static CausalLM model() {
        return CausalLM.random(ModelConfig.llama(16, 32, 64, 2, 4, 4), 5);
    }

    private static Map<String, Object> options(double alpha, double dropout) {
        CausalLM m = model();
        m.attachLora(new LoraConfig(4, alpha, dropout, List.of("q_proj", "v_proj")), 11);
        return TrainerCheckpoint.withLora(Map.of("learning_rate", 1e-4), m);
    }

    @Test
    void aChangedLoraAlphaOrDropoutIsAChangedOption() {
        Map<String, Object> was = options(8, 0), sameAgain = options(8, 0);
        assertEquals(List.of(), TrainerCheckpoint.changedOptions(was, sameAgain));
        List<String> alpha = TrainerCheckpoint.changedOptions(was, options(16, 0));
        assertEquals(1, alpha.size(), alpha.toString());
        assertTrue(alpha.get(0).startsWith("lora: ") && alpha.get(0).contains("lora_alpha=8.0") && alpha.get(0).contains("lora_alpha=16.0"),
                alpha.get(0));
        assertEquals(1, TrainerCheckpoint.changedOptions(was, options(8, 0.1)).size());
    }

    @Test
    void withoutAdaptersTheOptionsAreUnchanged() {
        Map<String, Object> opts = Map.of("learning_rate", 1e-4);
        assertSame(opts, TrainerCheckpoint.withLora(opts, model()));
    }
}
