package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r1kit.model.arch.ArchTestSupport;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.RopeTables;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Generation stops where the context ends: prompt + completion never exceeds the model's
 * positions, so the trainer can score every generated token (one token more crashed the
 * teacher-forced forward with "position 16 outside [0, 16)").
 */
class ContextLimitTest {
    static CausalLM model() {
        ModelConfig c = ModelConfig.llama(89, 32, 64, 2, 2, 2).withTieEmbeddings(true).withRope(10000.0, RopeTables.Scaling.none(), 16);
        return CausalLM.random(c, 3);
    }

    static void check(CausalLM m) {
        List<int[]> prompts = List.of(ArchTestSupport.randomIds(1, 3, 89), ArchTestSupport.randomIds(2, 7, 89));
        SamplingParams sp = SamplingParams.sample(1f, 40, 5).withIgnoreEos(true);
        List<Completion> out = new Generator(m).generate(prompts, 2, sp);
        for (int i = 0; i < out.size(); i++) {
            int plen = prompts.get(i / 2).length;
            assertEquals(16 - plen, out.get(i).tokens().length, "completion " + i + " of a " + plen + "-token prompt, 16 positions");
            assertEquals(FinishReason.LENGTH, out.get(i).finishReason());
        }
        // scoring prompt + completion (what GRPO does next) fits the positions
        int[] seq = GeneratorTest.concat(prompts.get(0), out.get(0).tokens(), out.get(0).tokens().length);
        try (var ng = Grad.noGrad()) {
            m.forward(seq, 1, seq.length, null, null);
        }
    }

    @Test
    void hostGenerationStopsAtTheContext() {
        check(model());
    }

    @Test
    void deviceGenerationStopsAtTheContext() {
        check(model().moveTo(new EmulatedDevice()));
    }
}
