package io.r1kit.grpo.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Example;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.HfTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quickstart recipe wires up: tokenizer covers the toy universe, a few pretraining steps run and save a loadable model. */
class ToyBaseModelTest {

    @Test
    void recipeRunsAndSavesALoadableBaseModel(@TempDir Path dir) throws Exception {
        ToyBaseModel.Recipe r = ToyBaseModel.Recipe.quickstart().withDocuments(200)
                .withSft(ToyBaseModel.Recipe.quickstart().sft().with(Map.of("max_steps", 3, "batch_size", 2, "logging_steps", 1)));
        ToyBaseModel.Built b = ToyBaseModel.pretrain(r, dir);
        assertEquals(3, b.result().steps());
        assertTrue(Double.isFinite(b.result().trainLoss()));
        assertTrue(Double.isFinite(b.result().evalLoss()), "eval_fraction holds out documents for eval/loss");
        List<JsonNode> lines = MetricsLog.read(dir.resolve(SftTrainer.METRICS_FILE));
        assertEquals("pretrain", lines.get(0).get("stage").asText());

        // RL prompts (held-out arithmetic, toy template) and the bilingual stage never hit <|unk|>
        CharTokenizer tok = b.tokenizer();
        TaskGenerator g = Generators.create("arithmetic", 5, new GeneratorParams(Map.of("part", "test", "lang", "ru")));
        for (int i = 0; i < 50; i++) {
            Example e = g.example(i);
            String prompt = PromptTemplates.byName("toy").render(e);
            assertFalse(Arrays.stream(tok.encode(prompt, true)).anyMatch(id -> id == tok.unkId()), "unknown char in " + prompt);
        }
        // the saved directory reloads through the generic HF path with the same ids
        CausalLM m = CausalLM.load(dir.resolve(SftTrainer.MODEL_DIR));
        assertEquals(b.model().config(), m.config());
        try (HfTokenizer hf = HfTokenizer.load(dir.resolve(SftTrainer.MODEL_DIR))) {
            String s = "user: what is 2+3?\nassistant: <think> 2+3=5 </think> <answer> 5 </answer>";
            assertEquals(Arrays.toString(tok.encode(s, true)), Arrays.toString(hf.encode(s, true)));
        }
    }
}
