package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRPO with LoRA: only the adapters move, the KL reference is the frozen base (KL 0 while B = 0),
 * checkpoints hold the adapters (PEFT layout) and their AdamW state, and a killed run resumes to
 * bit-identical adapters, metrics and samples.
 */
class GrpoLoraTest {
    static final LoraConfig LORA = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"));

    /** The toy model saved as a base directory (so adapter checkpoints name it) and loaded with adapters. */
    static CausalLM model(Path baseDir) throws Exception {
        CausalLM m = CausalLM.load(baseDir);
        m.attachLora(LORA, 11);
        return m;
    }

    /** Same scalar backend as GrpoTrainerTest's resume test, for the same reason (the Vector API kernels' JIT-dependent rounding). */
    @Test
    void loraRunTrainsTheAdaptersOnlyAndResumesExactly(@TempDir Path tmp) throws Exception {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            ToyTask task = new ToyTask();
            GrpoConfig c = GrpoTrainerTest.config("max_steps", 4, "save_steps", 2, "beta", 0.04, "num_iterations", 2,
                    "log_completions_steps", 1, "learning_rate", 0.05);
            Path a = tmp.resolve("a"), b = tmp.resolve("b"), baseDir = tmp.resolve("base");
            task.model(5).save(baseDir, DType.F32);

            CausalLM full = model(baseDir);
            List<float[]> base0 = values(task.model(5).parameters());
            task.trainer(c, full, a).stage("r1-zero").build().train();
            List<float[]> baseAfter = values(full.parameters());
            for (int i = 0; i < base0.size(); i++) assertArrayEquals(base0.get(i), baseAfter.get(i), "frozen base weight " + i + " moved");
            List<Parameter> adapters = full.lora().parameters();
            boolean moved = false;
            for (Parameter p : adapters) if (p.name().endsWith("lora_B.weight")) for (float v : p.data()) moved |= v != 0;
            assertTrue(moved, "training left every lora_B at zero");

            List<JsonNode> lines = MetricsLog.read(a.resolve("metrics.jsonl"));
            assertEquals(0.0, lines.get(0).get("kl").asDouble(), 0.0, "step 1: adapters start at B = 0, so the policy is its reference");
            assertTrue(lines.get(3).get("kl").asDouble() > 0, "the KL to the frozen base grows once the adapters moved: " + lines.get(3));

            Path ck = a.resolve("checkpoints/checkpoint-4");
            assertTrue(Files.isRegularFile(ck.resolve("adapter_config.json")));
            assertTrue(Files.isRegularFile(ck.resolve("adapter_model.safetensors")));
            assertFalse(Files.exists(ck.resolve("model.safetensors")), "a LoRA checkpoint holds the adapters, not the model");
            try (SafetensorsReader r = SafetensorsReader.open(ck.resolve(CheckpointStore.OPTIMIZER_FILE))) {
                assertEquals(2 * adapters.size(), r.tensors().size(), "AdamW m and v of the adapters only: " + r.tensors().keySet());
                for (String k : r.tensors().keySet()) assertTrue(k.startsWith("base_model.model.") && k.contains(".lora_"), k);
            }

            // killed after step 3's metrics line, resumed from checkpoint-2 in a fresh model
            CausalLM first = model(baseDir);
            RuntimeException kill = new RuntimeException("simulated kill");
            assertThrows(RuntimeException.class, () -> task.trainer(c, first, b).stage("r1-zero").listener(new TrainerListener() {
                @Override
                public void onStep(long step, Map<String, Object> metrics) {
                    if (step == 3) throw kill;
                }
            }).build().train());
            CausalLM second = model(baseDir);
            task.trainer(c, second, b).stage("r1-zero").resume(true).build().train();
            List<Parameter> pb = second.lora().parameters();
            for (int i = 0; i < adapters.size(); i++) assertArrayEquals(adapters.get(i).data(), pb.get(i).data(), 0f, adapters.get(i).name());
            List<JsonNode> la = MetricsLog.read(a.resolve("metrics.jsonl")), lb = MetricsLog.read(b.resolve("metrics.jsonl"));
            assertEquals(la.size(), lb.size());
            for (int i = 0; i < la.size(); i++) assertEquals(GrpoTrainerTest.withoutTiming(la.get(i)), GrpoTrainerTest.withoutTiming(lb.get(i)));
            for (int s = 1; s <= 4; s++) {
                assertEquals(Files.readString(a.resolve("samples/step-" + s + ".jsonl")), Files.readString(b.resolve("samples/step-" + s + ".jsonl")));
            }

            // the checkpoint loads as the merged model: its q_proj moved, its k_proj (not adapted) did not
            CausalLM merged = CausalLM.load(ck);
            assertNotEquals(base0.get(1)[0], merged.layers().get(0).qProj().data()[0]);
            assertArrayEquals(task.model(5).layers().get(0).kProj().data(), merged.layers().get(0).kProj().data());
        }
    }

    static List<float[]> values(List<Parameter> ps) {
        return ps.stream().map(p -> p.data().clone()).toList();
    }
}
