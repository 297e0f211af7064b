package io.r1kit.grpo.sft;

import static io.r1kit.grpo.sft.SftTestSupport.TOK;
import static io.r1kit.grpo.sft.SftTestSupport.kv;
import static io.r1kit.grpo.sft.SftTestSupport.pc;
import static io.r1kit.grpo.sft.SftTestSupport.tinyModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.DType;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SFT with LoRA: the loss falls with the adapters alone, the outputs are adapter directories, and a halted run resumes exactly. */
class SftLoraTest {
    static final LoraConfig LORA = new LoraConfig(4, 8, 0, List.of("all-linear"));

    private static Dataset data() {
        List<Example> xs = new ArrayList<>();
        for (int i = 0; i < 12; i++) xs.add(pc("e" + i, "what is " + i, "it is " + i));
        return new Dataset(xs);
    }

    private static Map<String, Object> config() {
        return kv("template", "toy", "max_steps", 6, "batch_size", 2, "save_steps", 3, "learning_rate", 1e-2);
    }

    private static CausalLM model(Path base) throws Exception {
        CausalLM m = CausalLM.load(base);
        m.attachLora(LORA, 5);
        return m;
    }

    /** On the scalar backend, as the other resume tests (the Vector API kernels' rounding depends on the JIT). */
    @Test
    void adaptersTrainSaveAndResumeExactly(@TempDir Path tmp) throws Exception {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            Path base = tmp.resolve("base");
            tinyModel(3).save(base, DType.F32);
            List<float[]> base0 = CausalLM.load(base).parameters().stream().map(p -> p.data().clone()).toList();

            CausalLM full = model(base);
            SftTrainer.Result r = SftTrainer.builder(full, TOK, SftConfig.of(config())).log(s -> { }).outputDir(tmp.resolve("a"))
                    .build().train(data(), null);
            assertEquals(6, r.steps());
            for (int i = 0; i < base0.size(); i++) assertArrayEquals(base0.get(i), full.parameters().get(i).data(), "base weight " + i);
            assertTrue(Files.isRegularFile(r.modelDir().resolve("adapter_model.safetensors")));
            assertFalse(Files.exists(r.modelDir().resolve("model.safetensors")));
            assertTrue(Files.isRegularFile(tmp.resolve("a/checkpoints/checkpoint-3/adapter_config.json")));

            CausalLM halted = model(base);
            assertTrue(SftTrainer.builder(halted, TOK, SftConfig.of(config())).log(s -> { }).outputDir(tmp.resolve("b")).haltAfterStep(3)
                    .build().train(data(), null).halted());
            CausalLM resumed = model(base);
            SftTrainer.builder(resumed, TOK, SftConfig.of(config())).log(s -> { }).outputDir(tmp.resolve("b")).resume(true)
                    .build().train(data(), null);
            List<Parameter> pa = full.lora().parameters(), pb = resumed.lora().parameters();
            boolean moved = false;
            for (int i = 0; i < pa.size(); i++) {
                assertArrayEquals(pa.get(i).data(), pb.get(i).data(), 0f, pa.get(i).name());
                if (pa.get(i).name().endsWith("lora_B.weight")) for (float v : pa.get(i).data()) moved |= v != 0;
            }
            assertTrue(moved, "the adapters did not train");
        }
    }
}
