package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The R1 stages after R1-Zero end to end through the CLI with a tiny scratch model: cold start (from
 * the bilingual set's written completions), rejection sampling + SFT mix of the base model, reward
 * model, all-scenario GRPO over a mixed set with routed rewards, distillation into a scratch student;
 * then an interrupted rejection-sampling stage resumed at pipeline level without duplicates.
 */
class R1StagesRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static final String CONFIG = """
            name: r1tiny
            seed: 3
            device: cpu
            template: toy
            data:
              corpus:  {generate: {task: pretrain-corpus, n: 200, seed: 1}}
              train:   {generate: {task: bilingual, n: 16, seed: 2, params: {part: train, mixed_rate: 0.5}}}
              test:    {generate: {task: bilingual, n: 6, seed: 3, params: {part: test}}}
              general: {generate: {task: nonreasoning, n: 12, seed: 4}}
              prefs:   {generate: {task: preferences, n: 40, seed: 5}}
              allscen: {mix: [{data: train, source: reasoning, n: 8}, {data: general, source: general, n: 8}], seed: 6}
              testmix: {mix: [{data: test, source: reasoning}, {data: general, source: general, n: 4}], shuffle: false}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 320}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
              - {name: language_consistency, weight: 0.2}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 4, max_steps: 2, logging_steps: 1, save_steps: 2}
              - name: cold_start
                type: cold_start
                model: {from_stage: pretrain}
                data: train
                eval_data: test
                candidates_column: completion
                format: {reasoning_open: "<think>", reasoning_close: "</think>", summary_template: " <answer>{summary}</answer>"}
                sft: {max_steps: 2, batch_size: 4, max_seq_length: 320, logging_steps: 1}
                eval: {max_completion_length: 6}
              - name: rejection
                type: rejection_sampling
                model: {from_stage: pretrain}
                data: train
                eval_data: test
                sampling: {samples_per_prompt: 2, max_new_tokens: 6, judge: none, language_threshold: 0, drop_truncated: false, prompt_batch_size: 4, temperature: 1.0}
                non_reasoning_data: general
                reasoning_samples: 20
                non_reasoning_samples: 6
                sft: {max_steps: 2, batch_size: 4, max_seq_length: 320, logging_steps: 1}
                eval: {max_completion_length: 6}
              - name: rm
                type: reward_model
                model: {from_stage: pretrain}
                data: prefs
                max_steps: 3
                batch_size: 4
                max_length: 128
                learning_rate: 0.003
                eval_fraction: 0.25
                logging_steps: 1
              - name: all_scenario
                type: grpo
                data: allscen
                eval_data: testmix
                rewards:
                  - {name: accuracy, weight: 1.0, sources: [reasoning]}
                  - {name: format, weight: 0.5, sources: reasoning}
                  - {name: reward_model, label: helpfulness, params: {from_stage: rm, scope: summary}, sources: [general]}
                  - {name: reward_model, label: harmlessness, params: {from_stage: rm, scope: full}, sources: [general]}
                prompts_per_step: 4
                num_generations: 2
                max_completion_length: 6
                learning_rate: 0.001
                max_steps: 2
                save_steps: 1
              - name: distill
                type: distill
                model: {scratch: {hidden_size: 16, intermediate_size: 32, num_layers: 1, num_heads: 2, max_positions: 320}}
                teacher: {from_stage: cold_start}
                data: train
                eval_data: test
                max_prompts: 6
                sampling: {samples_per_prompt: 1, max_new_tokens: 6, judge: none, language_threshold: 0, drop_truncated: false}
                sft: {max_steps: 2, batch_size: 4, logging_steps: 1}
                eval: {max_completion_length: 6, num_samples: 2, temperature: 1.0}
            """;

    static Result cli(String... args) {
        return Cli.run(args);
    }

    static List<JsonNode> jsonl(Path f) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    @Test
    void runsEveryR1StageAndResumesAnInterruptedRejectionStageWithoutDuplicates(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("r1.yaml");
        Files.writeString(cfg, CONFIG);
        Path run = tmp.resolve("run");
        Result r = cli("run", cfg.toString(), "--run-dir", run.toString());
        assertEquals(0, r.exit(), r.err());

        // every stage: completion marker and eval file; model-producing ones: a model directory
        for (String st : List.of("cold_start", "rejection", "rm", "all_scenario", "distill")) {
            assertTrue(Files.exists(run.resolve("stages/" + st + ".json")), "marker of " + st);
            assertTrue(Files.exists(run.resolve("eval/" + st + ".json")), "eval of " + st);
        }
        for (String st : List.of("cold_start", "rejection", "all_scenario", "distill")) {
            JsonNode marker = JSON.readTree(run.resolve("stages/" + st + ".json").toFile());
            assertTrue(Files.isRegularFile(Path.of(marker.get("model").asText()).resolve("config.json")), st + " has a final model");
            JsonNode ev = JSON.readTree(run.resolve("eval/" + st + ".json").toFile());
            for (String k : List.of("accuracy", "format_rate", "mean_length", "n")) assertTrue(ev.has(k), st + " eval lacks " + k);
        }
        // the models flow: cold_start and rejection SFT the base model, not the previous stage's
        assertEquals(JSON.readTree(run.resolve("stages/pretrain.json").toFile()).get("model").asText(),
                JSON.readTree(run.resolve("stages/rejection.json").toFile()).get("input_model").asText());
        // the reward model does not replace the policy: all_scenario starts from rejection's model
        assertTrue(JSON.readTree(run.resolve("stages/rm.json").toFile()).get("model").isNull());
        assertEquals(JSON.readTree(run.resolve("stages/rejection.json").toFile()).get("model").asText(),
                JSON.readTree(run.resolve("stages/all_scenario.json").toFile()).get("input_model").asText());

        // cold start: the rewritten format, every accepted line correct and single-language
        Path cs = run.resolve("stages/cold_start/rejection");
        List<JsonNode> csAcc = jsonl(cs.resolve("accepted.jsonl"));
        assertFalse(csAcc.isEmpty());
        for (JsonNode n : csAcc) {
            assertTrue(n.get("completion").asText().matches("(?s)<think>\\S.*\\S</think> <answer>\\S+</answer>"), n.get("completion").asText());
            assertFalse(n.get("cot_lang").asText().equals("mixed"), "a mixed-language chain was kept");
        }
        JsonNode csStats = JSON.readTree(cs.resolve("stats.json").toFile());
        assertTrue(csStats.get("reasons").path("mixed_language").asInt() > 0, "mixed-language chains are filtered: " + csStats);
        JsonNode csEval = JSON.readTree(run.resolve("eval/cold_start.json").toFile());
        // language metrics whenever the language_consistency reward scored a chain of thought (weight 0 measures)
        assertEquals(!csEval.path("rewards/language_consistency/mean").isNull(), csEval.has("language_mixing_rate"), csEval.toString());

        // rejection sampling: stats with counts and reasons, the mix with both kinds
        Path rs = run.resolve("stages/rejection/rejection");
        JsonNode stats = JSON.readTree(rs.resolve("stats.json").toFile());
        assertEquals(16, stats.get("prompts").asInt());
        assertEquals(32, stats.get("samples").asInt());
        assertEquals(32, stats.get("accepted").asInt() + stats.get("rejected").asInt());
        assertTrue(stats.has("reasons"));
        List<JsonNode> mix = jsonl(rs.resolve("sft_mix.jsonl"));
        long nonReasoning = mix.stream().filter(n -> n.path("source").asText().equals("non_reasoning")).count();
        assertEquals(6, nonReasoning);
        assertEquals(Math.min(20, stats.get("accepted").asInt()) + 6, mix.size());
        JsonNode rsEval = JSON.readTree(run.resolve("eval/rejection.json").toFile());
        assertEquals(stats.get("accepted").asInt(), rsEval.get("samples/accepted").asInt());

        // reward model: held-out pairwise accuracy, the model where the reward finds it
        JsonNode rm = JSON.readTree(run.resolve("eval/rm.json").toFile());
        assertTrue(rm.get("pairwise_accuracy").isNumber(), rm.toString());
        assertEquals(10, rm.get("n").asInt());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/rm/final/tokenizer.json")));

        // all-scenario RL: per-source reward metrics; the eval separates the sources
        List<JsonNode> metrics = jsonl(run.resolve("metrics.jsonl"));
        List<JsonNode> grpo = metrics.stream().filter(n -> n.path("stage").asText().equals("all_scenario") && n.has("reward")).toList();
        assertEquals(2, grpo.size());
        for (JsonNode n : grpo) {
            assertTrue(n.has("rewards/reasoning/mean") && n.has("rewards/general/mean"), n.toString());
            assertTrue(n.has("rewards/general/helpfulness") && !n.has("rewards/reasoning/helpfulness"), n.toString());
            assertTrue(n.has("rewards/reasoning/accuracy") && !n.has("rewards/general/accuracy"), n.toString());
        }
        JsonNode as = JSON.readTree(run.resolve("eval/all_scenario.json").toFile());
        assertEquals(10, as.get("n").asInt());
        assertEquals(6, as.get("n_checked").asInt(), "accuracy is over the reasoning prompts only");
        assertTrue(as.get("reward_model_score").isNumber(), as.toString());
        assertEquals(4, as.get("source/general/n").asInt());
        assertTrue(metrics.stream().anyMatch(n -> n.path("stage").asText().equals("rm") && n.has("loss")), "rm metrics are tagged");

        // distillation: the untrained student's eval beside the distilled one
        JsonNode di = JSON.readTree(run.resolve("eval/distill.json").toFile());
        assertTrue(di.has("before/accuracy") && di.has("accuracy"), di.toString());
        assertEquals(6, di.get("n").asInt(), "n counts prompts, not samples");
        assertEquals(2, di.get("num_samples").asInt());
        assertEquals(1, csEval.get("num_samples").asInt(), "greedy by default");
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/distill/init/config.json")), "the student has its own scratch init");

        // the report puts a row per stage side by side
        String html = Files.readString(run.resolve("report.html"));
        for (String c : List.of("language_consistency", "reward_model_score", "pairwise_accuracy")) assertTrue(html.contains("<th>" + c + "</th>"), c);

        // ---- interrupt the rejection stage: keep 2 finished prompts, tear a line, drop the markers after it
        List<String> progress = Files.readAllLines(rs.resolve("progress.jsonl"));
        JsonNode cut = JSON.readTree(progress.get(1));
        byte[] accepted = Files.readAllBytes(rs.resolve("accepted.jsonl"));
        Files.write(rs.resolve("progress.jsonl"), (progress.get(0) + "\n" + progress.get(1) + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] kept = java.util.Arrays.copyOf(accepted, cut.get("accepted_bytes").intValue());
        byte[] torn = "{\"id\":\"bilingual-2-0\",\"prompt\":\"torn".getBytes(StandardCharsets.UTF_8);
        byte[] both = java.util.Arrays.copyOf(kept, kept.length + torn.length);
        System.arraycopy(torn, 0, both, kept.length, torn.length);
        Files.write(rs.resolve("accepted.jsonl"), both);
        for (String st : List.of("rejection", "rm", "all_scenario", "distill")) Files.delete(run.resolve("stages/" + st + ".json"));
        Result again = cli("run", cfg.toString(), "--run-dir", run.toString(), "--resume");
        assertEquals(0, again.exit(), again.err());
        assertTrue(Files.readString(run.resolve("run.log")).contains("resuming at prompt 2"), "the sampler resumed");
        byte[] after = Files.readAllBytes(rs.resolve("accepted.jsonl"));
        assertTrue(java.util.Arrays.equals(kept, java.util.Arrays.copyOf(after, kept.length)), "lines before the kill are kept as they were");
        List<JsonNode> acc = jsonl(rs.resolve("accepted.jsonl"));
        Set<String> ids = new HashSet<>();
        for (JsonNode n : acc) assertTrue(ids.add(n.get("id").asText()), "duplicate " + n.get("id"));
        JsonNode stats2 = JSON.readTree(rs.resolve("stats.json").toFile());
        assertEquals(16, stats2.get("prompts_done").asInt());
        assertEquals(32, stats2.get("samples").asInt(), "every prompt sampled once: " + stats2);
        assertEquals(acc.size(), stats2.get("accepted").asInt());
        for (String st : List.of("rejection", "rm", "all_scenario", "distill")) assertTrue(Files.exists(run.resolve("stages/" + st + ".json")), st);
        // the rerun stages replaced their metrics lines instead of doubling them
        List<JsonNode> m2 = jsonl(run.resolve("metrics.jsonl"));
        assertEquals(metrics.stream().filter(n -> n.path("stage").asText().equals("rm")).count(),
                m2.stream().filter(n -> n.path("stage").asText().equals("rm")).count());
        assertEquals(2, m2.stream().filter(n -> n.path("stage").asText().equals("all_scenario") && n.has("reward")).count());
    }
}
