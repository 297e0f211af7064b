package io.r1kit.grpo.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.DType;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO with a LoRA policy: the policy's base stays frozen (the value model, a copy of it, trains in
 * full), the KL reference is that base (KL 0 at step 1), and a killed run resumes to identical adapters.
 */
class PpoLoraTest {
    static CausalLM model(Path base) throws Exception {
        CausalLM m = CausalLM.load(base);
        m.attachLora(new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "up_proj")), 3);
        return m;
    }

    @Test
    void loraPolicyTrainsAdaptersAndResumesExactly(@TempDir Path tmp) throws Exception {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            Path base = tmp.resolve("base");
            PpoTrainerTest.model(5).save(base, DType.F32);
            PpoConfig c = PpoTrainerTest.config("max_steps", 4, "save_steps", 2, "kl_coef", 0.05);
            CausalLM a = model(base);
            PpoTrainerTest.trainer(c, a, tmp.resolve("a")).build().train();
            CausalLM b0 = CausalLM.load(base);
            for (int i = 0; i < a.parameters().size(); i++)
                assertArrayEquals(b0.parameters().get(i).data(), a.parameters().get(i).data(), 0f, a.parameters().get(i).name());
            assertTrue(Files.isRegularFile(tmp.resolve("a/checkpoints/checkpoint-4/adapter_model.safetensors")));

            CausalLM b1 = model(base);
            RuntimeException kill = new RuntimeException("kill");
            assertThrows(RuntimeException.class, () -> PpoTrainerTest.trainer(c, b1, tmp.resolve("b"))
                    .listener(TrainerListener.onSteps((s, m) -> {
                        if (((Number) m.get("step")).longValue() == 3) throw kill;
                    })).build().train());
            CausalLM b2 = model(base);
            PpoTrainerTest.trainer(c, b2, tmp.resolve("b")).resume(true).build().train();
            List<Parameter> pa = a.lora().parameters(), pb = b2.lora().parameters();
            boolean moved = false;
            for (int i = 0; i < pa.size(); i++) {
                assertArrayEquals(pa.get(i).data(), pb.get(i).data(), 0f, pa.get(i).name());
                if (pa.get(i).name().endsWith("lora_B.weight")) for (float v : pa.get(i).data()) moved |= v != 0;
            }
            assertTrue(moved, "the adapters did not train");
            var lines = MetricsLog.read(tmp.resolve("a/metrics.jsonl"));
            assertEquals(lines.size(), MetricsLog.read(tmp.resolve("b/metrics.jsonl")).size());
            assertEquals(0.0, lines.get(0).get("kl").asDouble(), 0.0, "step 1: adapters at B = 0, the policy is its reference");
        }
    }
}
