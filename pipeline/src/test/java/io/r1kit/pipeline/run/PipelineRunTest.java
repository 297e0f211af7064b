package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import io.r1kit.model.backend.Devices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A whole (tiny) run from YAML through the CLI: data, scratch model, pretrain, eval, GRPO, report, rerun. */
class PipelineRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String CONFIG = """
            name: tiny
            seed: 3
            device: auto
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 300, seed: 1}}
              train:  {generate: {task: arithmetic, n: 40, seed: 2, params: {part: train}}}
              test:   {generate: {task: arithmetic, n: 6, seed: 3, params: {part: test}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 128}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 4, max_steps: 4, logging_steps: 2, save_steps: 2}
              - {name: base_eval, type: eval, data: test, max_completion_length: 12}
              - name: r1_zero
                type: grpo
                data: train
                eval_data: test
                prompts_per_step: 2
                num_generations: 2
                max_completion_length: 12
                learning_rate: 0.001
                max_steps: 2
                save_steps: 1
                log_completions_steps: 1
            tensorboard: true
            """;


    private static Result cli(String... args) {
        return Cli.run(args);
    }

    @Test
    void runsEveryStageWritesTheRunDirectoryAndSkipsCompletedStagesOnRerun(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("tiny.yaml");
        Files.writeString(cfg, CONFIG);
        Path run = tmp.resolve("run");

        Result r = cli("run", cfg.toString(), "--run-dir", run.toString());
        assertEquals(0, r.exit(), r.err());

        for (String f : List.of("config.yaml", "run.log", "metrics.jsonl", "report.html", "eval/pretrain.json", "eval/base_eval.json",
                "eval/r1_zero.json", "stages/pretrain.json", "stages/base_eval.json", "stages/r1_zero.json",
                "data/corpus.jsonl", "tokenizer/tokenizer.json", "checkpoints/pretrain/final/config.json",
                "checkpoints/pretrain/final/model.safetensors", "checkpoints/r1_zero/checkpoint-2/model.safetensors",
                "checkpoints/r1_zero/checkpoint-2/trainer_state.json", "samples/r1_zero/step-1.jsonl", "samples/r1_zero/step-2.jsonl")) {
            assertTrue(Files.exists(run.resolve(f)), "missing " + f);
        }
        for (String st : List.of("pretrain", "r1_zero")) {
            try (var files = Files.list(run.resolve("tensorboard").resolve(st))) {
                assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).count(),
                        "tensorboard: true writes an event file per stage with metrics");
            }
        }
        JsonNode eval = JSON.readTree(run.resolve("eval/base_eval.json").toFile());
        for (String k : List.of("accuracy", "format_rate", "mean_length", "n")) assertTrue(eval.has(k), "eval lacks " + k);
        assertEquals(6, eval.get("n").asInt());
        JsonNode pre = JSON.readTree(run.resolve("eval/pretrain.json").toFile());
        assertEquals(4, pre.get("steps").asInt(), "eval/pretrain.json: " + pre);
        assertTrue(pre.get("train_loss").asDouble() > 0 && pre.get("num_tokens").asLong() > 0, "eval/pretrain.json: " + pre);
        assertTrue(pre.has("eval_loss") && pre.has("eval_perplexity"), "eval/pretrain.json: " + pre);

        List<JsonNode> lines = Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> { try { return JSON.readTree(l); } catch (Exception e) { throw new RuntimeException(e); } }).toList();
        Set<String> stages = lines.stream().map(n -> n.path("stage").asText()).collect(Collectors.toSet());
        assertEquals(Set.of("pretrain", "r1_zero"), stages, "every metrics line carries its stage");
        long grpoSteps = lines.stream().filter(n -> n.path("stage").asText().equals("r1_zero") && n.has("reward")).count();
        assertEquals(2, grpoSteps, "each GRPO step exactly once");
        assertTrue(Files.readString(run.resolve("run.log")).contains("stage r1_zero"), "run.log holds the log");
        if (!Devices.cudaAvailable()) {   // device: auto without a GPU: the CPU, one line saying why
            String log = Files.readString(run.resolve("run.log")) + r.err();
            assertEquals(1, log.lines().filter(l -> l.contains("device auto -> cpu: ")).distinct().count(), log);
            assertTrue(!log.contains("device-resident"), "the fallback trains on the host");
        }

        // r1kit eval on the final checkpoint reproduces the run's own final evaluation
        Path evalOut = tmp.resolve("eval.json");
        Result ev = cli("eval", "--model", run.resolve("checkpoints/r1_zero/checkpoint-2").toString(), "--data",
                run.resolve("data/test.jsonl").toString(), "--template", "toy", "--max-completion-length", "12",
                "--device", "cpu", "--out", evalOut.toString());
        assertEquals(0, ev.exit(), ev.err());
        JsonNode inRun = JSON.readTree(run.resolve("eval/r1_zero.json").toFile()), byCli = JSON.readTree(evalOut.toFile());
        for (String k : List.of("accuracy", "format_rate", "mean_length", "n")) {
            assertEquals(inRun.get(k).asDouble(), byCli.get(k).asDouble(), 0, k + ": r1kit eval = the run's final eval");
        }
        Result badEval = cli("eval", "--model", run.toString(), "--data", tmp.resolve("missing.jsonl").toString());
        assertEquals(2, badEval.exit());
        assertTrue(badEval.err().contains("missing.jsonl does not exist"), badEval.err());

        // rerunning skips completed stages and changes nothing
        String before = Files.readString(run.resolve("metrics.jsonl"));
        Result again = cli("run", cfg.toString(), "--run-dir", run.toString(), "--resume");
        assertEquals(0, again.exit(), again.err());
        assertTrue(Files.readString(run.resolve("run.log")).contains("already completed, skipping"));
        assertEquals(before, Files.readString(run.resolve("metrics.jsonl")));

        // a run killed mid-GRPO, after the checkpoint of step 1 and the metrics line of step 2: no
        // completion marker, no checkpoint-2, a metrics line and samples of the lost step
        String samplesOfStep2 = Files.readString(run.resolve("samples/r1_zero/step-2.jsonl"));
        Files.delete(run.resolve("stages/r1_zero.json"));
        deleteTree(run.resolve("checkpoints/r1_zero/checkpoint-2"));
        Files.deleteIfExists(run.resolve("checkpoints/r1_zero/latest"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"stage\":\"r1_zero\",\"step\":3,\"rew", java.nio.file.StandardOpenOption.APPEND);
        Result resumed = cli("run", cfg.toString(), "--run-dir", run.toString(), "--resume");
        assertEquals(0, resumed.exit(), resumed.err());
        List<JsonNode> after = Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> { try { return JSON.readTree(l); } catch (Exception e) { throw new RuntimeException(e); } }).toList();
        assertEquals(List.of(1L, 2L), after.stream().filter(n -> n.path("stage").asText().equals("r1_zero") && n.has("reward"))
                .map(n -> n.get("step").asLong()).toList(), "each GRPO step exactly once after the resume");
        assertEquals(lines.stream().filter(n -> n.path("stage").asText().equals("pretrain")).count(),
                after.stream().filter(n -> n.path("stage").asText().equals("pretrain")).count(), "other stages' lines are kept");
        assertTrue(Files.exists(run.resolve("checkpoints/r1_zero/checkpoint-2/model.safetensors")));
        assertEquals(samplesOfStep2, Files.readString(run.resolve("samples/r1_zero/step-2.jsonl")),
                "the resumed step samples exactly what the uninterrupted run sampled");
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Test
    void unknownStageKeyStopsBeforeAnyWorkWithLineAndSuggestion(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("bad.yaml");
        Files.writeString(cfg, CONFIG.replace("learning_rate: 0.001", "betta: 0.04"));
        Path run = tmp.resolve("run");
        Result r = cli("run", cfg.toString(), "--run-dir", run.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("bad.yaml:25:5: unknown key 'stages[2].betta'"), r.err());
        assertTrue(r.err().contains("Did you mean 'beta'?"), r.err());
        assertTrue(!Files.exists(run), "nothing was written");

        Files.writeString(cfg, CONFIG);
        assertEquals(0, cli("validate", cfg.toString()).exit());
        Result v = cli("validate", cfg.toString(), "--set", "stages.r1_zero.betta=0");
        assertEquals(2, v.exit());
        assertTrue(v.err().contains("--set stages.r1_zero.betta=0: unknown key 'stages[2].betta'. Did you mean 'beta'?"), v.err());
    }

    @Test
    void unknownStageTypeAndDataSetAreNamed(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, CONFIG.replace("type: grpo", "type: grop"));
        Result r = cli("validate", cfg.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Did you mean 'grpo'?"), r.err());
        Files.writeString(cfg, CONFIG.replace("data: test, max_completion_length", "data: tset, max_completion_length"));
        Result d = cli("validate", cfg.toString());
        assertEquals(2, d.exit());
        assertTrue(d.err().contains("data set 'tset'"), d.err());
    }

    /**
     * Prompt + completion beyond the model's 128 positions is refused at validation, naming the
     * numbers (before, GRPO crashed in its first update with "position 128 outside [0, 128)").
     */
    @Test
    void aStageWhosePromptAndCompletionExceedTheContextIsRefused(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, CONFIG.replace("max_completion_length: 12\n    learning_rate", "max_completion_length: 120\n    learning_rate"));
        Result r = cli("validate", cfg.toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("stage 'r1_zero': the longest prompt of data set 'train'"), r.err());
        assertTrue(r.err().contains("plus max_completion_length 120 is") && r.err().contains("the model's context of 128 positions"), r.err());
        // a max_prompt_length that leaves room makes it fit (prompts are left-truncated to it)
        Files.writeString(cfg, CONFIG.replace("max_completion_length: 12\n    learning_rate",
                "max_completion_length: 120\n    max_prompt_length: 8\n    learning_rate"));
        Result ok = cli("validate", cfg.toString());
        assertEquals(0, ok.exit(), ok.err());
    }
}
