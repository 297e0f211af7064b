package io.r1kit.grpo.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.Transfers;
import io.r1kit.model.backend.device.Transfers.Direction;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PPO with policy, reference and value model on a device ({@link EmulatedDevice}) against the CPU.
 * Tolerances as GrpoOnDeviceTest (the lm-head GEMM over all rows at once vs chunks, fp32-rounded
 * metric sums): metrics 1e-4 relative + 1e-6, weights 1e-5. Transfers per step: the generation
 * edges, then — GAE runs on the host — the old / reference log-probs and the values of each
 * micro-batch down once, its old log-probs / advantages / old values / returns / mask up once, and
 * per micro-batch and epoch one 28-byte copy of the loss and its metric sums, the entropy sum on the
 * first epoch, and the two gradient norms per update.
 */
class PpoOnDeviceTest {
    static final List<String> COMPARED = List.of("reward", "loss", "policy_loss", "value_loss", "kl", "entropy",
            "clip_ratio/region_mean", "value_clip_ratio", "values/mean", "returns/mean", "grad_norm");

    @Test
    void ppoOnTheDeviceMatchesTheCpuAndCopiesOnlyAtTheEdges(@TempDir Path dir) {
        PpoConfig c = PpoTrainerTest.config("max_steps", 2, "prompts_per_step", 4, "gradient_accumulation_steps", 2);
        CausalLM cpu = PpoTrainerTest.model(3);
        PpoTrainer a = PpoTrainerTest.trainer(c, cpu, dir.resolve("cpu")).build();
        a.train();

        EmulatedDevice emu = new EmulatedDevice();
        CausalLM dev = PpoTrainerTest.model(3).moveTo(emu);
        emu.transfers().reset();
        List<List<Transfers.Transfer>> perStep = new ArrayList<>();
        PpoTrainer b = PpoTrainerTest.trainer(c, dev, dir.resolve("dev")).listener(TrainerListener.onSteps((s, m) -> {
            perStep.add(emu.transfers().log());
            emu.transfers().reset();
        })).build();
        b.train();

        List<JsonNode> la = MetricsLog.read(dir.resolve("cpu/metrics.jsonl")), lb = MetricsLog.read(dir.resolve("dev/metrics.jsonl"));
        assertEquals(la.size(), lb.size());
        for (int i = 0; i < la.size(); i++)
            for (String k : COMPARED) {
                double want = la.get(i).get(k).asDouble(), got = lb.get(i).get(k).asDouble();
                assertTrue(Math.abs(want - got) <= 1e-6 + 1e-4 * Math.abs(want), "step " + (i + 1) + " " + k + ": cpu " + want + ", device " + got);
            }
        assertWeights(cpu.parameters(), dev.parameters());
        assertWeights(a.valueModel().parameters(), b.valueModel().parameters());
        assertTrue(b.valueModel().head().isOnDevice(), "the value model trains on the device");

        for (int s = 0; s < 2; s++) {
            List<Transfers.Transfer> log = perStep.get(s);
            int micro = 2, epochs = 2;
            assertEquals(micro * epochs, count(log, "ppo loss and metric sums [7]"), "step " + (s + 1) + ": " + log);
            assertEquals(micro, count(log, "ppo entropy sum"));
            assertEquals(2 * epochs, count(log, "gradient norm"), "policy and value norms per update");
            for (String up : List.of("ppo old log-probs", "ppo advantages", "ppo old values", "ppo returns", "ppo completion mask"))
                assertEquals(micro, count(log, up), up + " at step " + (s + 1));
            for (Transfers.Transfer t : log) {
                String w = t.what();
                boolean ok = t.direction() == Direction.TO_HOST
                        ? w.startsWith("ppo ") || w.equals("gradient norm") || w.startsWith("sampled ") || w.startsWith("data() of [")
                        : w.startsWith("ppo ") || w.startsWith("embedding ids") || w.startsWith("rope ") || w.startsWith("attention key mask")
                          || w.startsWith("linearTokenLogProbs targets") || w.startsWith("linearEntropy row mask")
                          || w.startsWith("sampling ") || w.startsWith("prefill ") || w.startsWith("decode ") || w.startsWith("key mask")
                          || w.startsWith("kept rows") || (s == 0 && w.startsWith("parameter "));
                assertTrue(ok, "step " + (s + 1) + " copied something that is not an edge: " + t);
            }
            // GAE's inputs (old and reference log-probs, values: [rows, T] each, once per micro-batch); before step 1
            // also the reference's and the value backbone's weights (copies of the policy: each weight down once)
            int params = dev.parameters().size();
            assertEquals(3 * micro + (s == 0 ? 2 * params : 0), count(log, "data() of ["), "step " + (s + 1) + ": " + log);
            assertEquals(s == 0 ? 2 * params + 1 : 0, count(log, "parameter "), "reference, value backbone and head: once");
        }
    }

    static void assertWeights(List<Parameter> a, List<Parameter> b) {
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).data(), b.get(i).data(), 1e-5f, a.get(i).name());
    }

    static int count(List<Transfers.Transfer> log, String prefix) {
        int n = 0;
        for (Transfers.Transfer t : log) if (t.what().startsWith(prefix)) n++;
        return n;
    }
}
