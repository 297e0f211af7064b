package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.backend.Devices;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code device:} routes the pipeline's stages: {@code emulated} trains the pretrain (SFT) and GRPO
 * stages and runs the eval stage on device-resident tensors of an EmulatedDevice and gives the CPU run's results
 * (same rollouts; losses within 1e-4 relative, the tolerance of GrpoOnDeviceTest and why); without
 * a GPU {@code cuda} is an error before any work.
 */
class PipelineDeviceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CONFIG = """
            name: tiny-device
            seed: 4
            device: DEVICE
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 60, seed: 1}}
              train:  {generate: {task: arithmetic, n: 20, seed: 2, params: {part: train}}}
              test:   {generate: {task: arithmetic, n: 4, seed: 3, params: {part: test}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 128}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 64, batch_size: 4, max_steps: 3, logging_steps: 1, save_steps: 0}
              - {name: base_eval, type: eval, data: test, max_completion_length: 8}
              - {name: r1_zero, type: grpo, data: train, prompts_per_step: 2, num_generations: 2, max_completion_length: 8,
                 learning_rate: 0.001, max_steps: 2, save_steps: 0, log_completions_steps: 1, beta: 0.04}
            """;

    private static Path run(Path tmp, String device) throws Exception {
        Path cfg = tmp.resolve(device + ".yaml"), dir = tmp.resolve("run-" + device);
        Files.writeString(cfg, CONFIG.replace("DEVICE", device));
        Result r = Cli.run("run", cfg.toString(), "--run-dir", dir.toString());
        assertEquals(0, r.exit(), r.err());
        return dir;
    }

    private static List<JsonNode> metrics(Path run) throws Exception {
        return Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> { try { return JSON.readTree(l); } catch (Exception e) { throw new RuntimeException(e); } }).toList();
    }

    @Test
    void deviceEmulatedTrainsTheStagesOnTheDeviceWithTheCpuResults(@TempDir Path tmp) throws Exception {
        Path cpu = run(tmp, "cpu"), emu = run(tmp, "emulated");
        assertTrue(Files.readString(emu.resolve("run.log")).contains("models on device-resident tensors of emu"),
                "the run says where it trains");
        assertTrue(!Files.readString(cpu.resolve("run.log")).contains("device-resident"));
        List<JsonNode> a = metrics(cpu), b = metrics(emu);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            for (String k : List.of("loss", "grad_norm", "reward", "kl")) {
                if (!a.get(i).has(k) || !a.get(i).get(k).isNumber()) continue;
                double want = a.get(i).get(k).asDouble(), got = b.get(i).get(k).asDouble();
                assertTrue(Math.abs(want - got) <= 1e-6 + 1e-4 * Math.abs(want), "line " + i + " " + k + ": cpu " + want + ", emulated " + got);
            }
        }
        assertEquals(Files.readString(cpu.resolve("eval/base_eval.json")), Files.readString(emu.resolve("eval/base_eval.json")),
                "the eval stage generates on the device the CPU's completions");
        for (int s = 1; s <= 2; s++)
            assertEquals(Files.readString(cpu.resolve("samples/r1_zero/step-" + s + ".jsonl")),
                    Files.readString(emu.resolve("samples/r1_zero/step-" + s + ".jsonl")), "rollouts of step " + s);
    }

    /**
     * {@code precision: bf16} with {@code device: emulated}: the pretrain stage trains in mixed
     * precision (the run log says so; finite losses; how close they are to fp32 is bounded by
     * MixedPrecisionStepTest and SftOnDeviceTest, not repeated here), and on the host it is a config
     * error before any work.
     */
    @Test
    void precisionBf16TrainsInMixedPrecisionOnTheDeviceAndIsRefusedOnTheHost(@TempDir Path tmp) throws Exception {
        String pretrainOnly = CONFIG.substring(0, CONFIG.indexOf("  - {name: base_eval")).replace("max_steps: 3", "max_steps: 2");
        Path bfCfg = tmp.resolve("bf16.yaml"), badCfg = tmp.resolve("bad.yaml");
        Files.writeString(bfCfg, pretrainOnly.replace("DEVICE", "emulated\nprecision: bf16"));
        Files.writeString(badCfg, pretrainOnly.replace("DEVICE", "cpu\nprecision: bf16"));
        Result bad = Cli.run("run", badCfg.toString(), "--run-dir", tmp.resolve("run-bad").toString());
        assertEquals(2, bad.exit(), bad.err());
        assertTrue(bad.err().contains("'precision: bf16' needs the models on a device"), bad.err());
        assertTrue(!Files.exists(tmp.resolve("run-bad/stages/pretrain.json")), "no work before the error");

        Result rb = Cli.run("run", bfCfg.toString(), "--run-dir", tmp.resolve("run-bf16").toString());
        assertEquals(0, rb.exit(), rb.err());
        assertTrue(Files.readString(tmp.resolve("run-bf16/run.log")).contains("precision: bf16"), "the run says it is bf16");
        long losses = metrics(tmp.resolve("run-bf16")).stream().filter(l -> l.has("loss"))
                .peek(l -> assertTrue(Double.isFinite(l.get("loss").asDouble()), l.toString())).count();
        assertEquals(2, losses, "one loss line per pretrain step");
    }

    @Test
    void withoutAGpuCudaIsAnErrorBeforeAnyWork(@TempDir Path tmp) throws Exception {
        assumeFalse(Devices.cudaAvailable(), "a GPU is present: cuda is available");
        Path cfg = tmp.resolve("cuda.yaml");
        Files.writeString(cfg, CONFIG.replace("DEVICE", "cuda"));
        Result r = Cli.run("run", cfg.toString(), "--run-dir", tmp.resolve("run-cuda").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("CUDA is not available"), r.err());
        assertTrue(!Files.exists(tmp.resolve("run-cuda/stages/pretrain.json")), "no work before the error");

        // auto without a GPU: PipelineRunTest runs its whole pipeline that way and checks the one line
    }
}
