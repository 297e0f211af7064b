package io.r1kit.grpo.rm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.Transfers;
import io.r1kit.model.backend.device.Transfers.Direction;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tokenizer.CharTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reward-model trainer with backbone and head on a device ({@link EmulatedDevice}) against the
 * CPU: Bradley–Terry losses, held-out scores and weights, and per step only the edge copies (the
 * batch's ids / positions / key mask / last-token rows in; loss, the 2n scores for the accuracy /
 * margin metrics and the gradient norm out). Tolerances: every op of this model and loss gives the
 * CPU's bits on the emulated device except the final `linear` to one output (same kernels), so the
 * run is expected to match to float rounding: 1e-5 relative on losses and scores, weights 1e-6
 * (AdamW moves each weight by about ±lr whatever the gradient's size).
 */
class RewardModelOnDeviceTest {
    @Test
    void rewardModelTrainingOnTheDeviceMatchesTheCpu() {
        List<Example> train = RewardModelTrainingTest.pairs(11, 0, 16), eval = RewardModelTrainingTest.pairs(11, 5000, 8);
        List<String> texts = new ArrayList<>();
        for (Example e : train) texts.add(e.getString("prompt") + e.getString("chosen") + e.getString("rejected"));
        for (Example e : eval) texts.add(e.getString("prompt") + e.getString("chosen") + e.getString("rejected"));
        CharTokenizer tok = CharTokenizer.fromCorpus(texts, List.of());
        ModelConfig c = ModelConfig.llama(tok.vocabSize(), 32, 64, 1, 4, 2).withRope(10000.0, RopeTables.Scaling.none(), 256);
        RewardModelConfig cfg = RewardModelConfig.of(Map.of("learning_rate", 3e-3, "batch_size", 8, "max_steps", 2, "template", "toy",
                "max_length", 64, "logging_steps", 1));

        RewardModel cpu = RewardModel.fromPolicy(CausalLM.random(c, 7), cfg.encoding(), 8);
        List<String> cpuLog = new ArrayList<>();
        RewardModelTrainer.Result a = RewardModelTrainer.builder(cpu, tok, cfg).log(cpuLog::add).build().train(new Dataset(train), new Dataset(eval));

        EmulatedDevice emu = new EmulatedDevice();
        RewardModel dev = RewardModel.fromPolicy(CausalLM.random(c, 7), cfg.encoding(), 8).moveTo(emu);
        emu.transfers().reset();
        List<String> devLog = new ArrayList<>();
        List<List<Transfers.Transfer>> perStep = new ArrayList<>();
        RewardModelTrainer.Result b = RewardModelTrainer.builder(dev, tok, cfg).log(l -> {
            devLog.add(l);
            perStep.add(emu.transfers().log());
            emu.transfers().reset();
        }).build().train(new Dataset(train), new Dataset(eval));

        assertEquals(a.steps(), b.steps());
        assertEquals(a.trainLoss(), b.trainLoss(), 1e-5 * Math.abs(a.trainLoss()));
        assertEquals(a.eval().accuracy(), b.eval().accuracy(), 0);
        for (int i = 0; i < a.eval().chosen().length; i++)
            assertEquals(a.eval().chosen()[i], b.eval().chosen()[i], 1e-5 * Math.abs(a.eval().chosen()[i]) + 1e-6, "held-out score " + i);
        List<Parameter> pa = cpu.trainableParameters(), pb = dev.trainableParameters();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).data(), pb.get(i).data(), 1e-6f, pa.get(i).name());

        assertEquals(3, perStep.size(), "2 step lines and the eval line");
        for (int s = 0; s < 2; s++) {
            List<Transfers.Transfer> log = perStep.get(s);
            int down = 0;
            for (Transfers.Transfer t : log) {
                if (t.direction() == Direction.TO_HOST) {
                    down++;
                    assertTrue(t.bytes() == 4 || t.bytes() == 8 || t.bytes() == 4 * 16, "step " + (s + 1) + ": " + t);
                } else {
                    String w = t.what();
                    assertTrue(w.startsWith("embedding ids") || w.startsWith("rope positions") || w.startsWith("attention key mask")
                            || w.startsWith("indexSelect ids") || (s == 0 && w.startsWith("rope ")), "step " + (s + 1) + ": " + t);
                }
            }
            assertEquals(3, down, "loss, scores, gradient norm at step " + (s + 1) + ": " + log);
        }
    }
}
