package io.r1kit.pipeline.findings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.report.MetricsFile;
import io.r1kit.pipeline.testing.Cli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each findings config of configs/findings/ run end to end at tiny sizes (one seed, a few steps, via
 * {@code --run-set}): finding.json is written with the rule evaluated on the runs' own metrics (each
 * measured value recomputed here from metrics.jsonl / the eval files), with the report beside it.
 * One seed is below every finding's min_seeds, so each must come out "does not hold" for that reason.
 */
class FindingsConfigsTest {
    // the other findings' configs are another test's; these three are checked here
    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path DIR = Path.of("..", "configs", "findings").toAbsolutePath().normalize();

    /** Tiny sizes for the quickstart's universe (the clip-higher finding and the teacher in distill-vs-rl). */
    private static final List<String> QUICKSTART_TINY = List.of(
            "data.corpus.generate.n=300", "data.train.generate.n=40", "data.test.generate.n=6",
            "model.scratch.hidden_size=32", "model.scratch.intermediate_size=64", "model.scratch.num_layers=1",
            "model.scratch.num_heads=2", "stages.pretrain.max_steps=3", "stages.pretrain.batch_size=2",
            "stages.pretrain.max_seq_length=64");

    private static List<String> runSets(List<String> sets) {
        List<String> args = new ArrayList<>();
        for (String s : sets) {
            args.add("--run-set");
            args.add(s);
        }
        return args;
    }

    private static JsonNode run(String name, Path root, List<String> sets) throws Exception {
        List<String> args = new ArrayList<>(List.of("findings", "run", name, "--dir", DIR.toString(), "--run-dir", root.toString(),
                "--seeds", "1"));
        args.addAll(runSets(sets));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("[finding " + name + "] run 1/"), "progress is printed:\n" + r.out());
        assertTrue(r.out().contains("remaining"), r.out());
        JsonNode f = JSON.readTree(root.resolve("finding.json").toFile());
        assertEquals(name, f.get("name").asText());
        assertFalse(f.get("claim").asText().isBlank());
        assertFalse(f.get("source").asText().isBlank());
        assertTrue(f.get("rule").has("checks"));
        assertFalse(f.get("holds").asBoolean(), "one seed is below the rule's min_seeds");
        assertTrue(f.get("reasons").get(0).asText().contains("the rule needs at least 3"), f.get("reasons").toString());
        assertTrue(Files.exists(root.resolve("finding.html")) && Files.exists(root.resolve("finding.md")));
        return f;
    }

    /** metrics.jsonl values of one stage's metric, in step order, read independently of the evaluator. */
    private static List<Double> series(Path run, String stage, String metric) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if (stage.equals(n.path("stage").asText()) && n.path(metric).isNumber()) out.add(n.get(metric).asDouble());
        }
        return out;
    }

    private static double evalValue(Path run, String stage, String key) throws Exception {
        return JSON.readTree(run.resolve("eval").resolve(stage + ".json").toFile()).get(key).asDouble();
    }

    @Test
    void clipHigherEntropy(@TempDir Path tmp) throws Exception {
        List<String> sets = new ArrayList<>(QUICKSTART_TINY);
        sets.addAll(List.of("stages.r1_zero.max_steps=3", "stages.r1_zero.prompts_per_step=2", "stages.r1_zero.num_generations=4",
                "stages.r1_zero.max_completion_length=8", "stages.r1_zero.log_completions_steps=0",
                "stages.base_eval.max_completion_length=8", "stages.base_eval_greedy.max_completion_length=8",
                "stages.final_eval.max_completion_length=8", "stages.final_eval_greedy.max_completion_length=8"));
        Path root = tmp.resolve("clip");
        JsonNode f = run("clip-higher-entropy", root, sets);
        for (String variant : List.of("epsilon_high=0.2", "epsilon_high=0.28")) {
            Path r = root.resolve(variant).resolve("seed-1");
            List<Double> entropy = series(r, "r1_zero", "entropy");
            assertEquals(3, entropy.size(), "a metrics line per RL step");
            JsonNode m = f.get("measured").get(variant).get("seed-1");
            assertEquals(entropy.get(2), m.get("entropy [r1_zero, last 10%]").asDouble(), 1e-12, "last 10% of 3 steps = the last");
            assertEquals(evalValue(r, "final_eval", "pass@k"), m.get("pass@k [eval/final_eval.json]").asDouble(), 1e-12);
        }
        List<Double> clip = series(root.resolve("epsilon_high=0.2/seed-1"), "r1_zero", "clip_ratio/region_mean");
        assertEquals(clip.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
                f.get("measured").get("epsilon_high=0.2").get("seed-1").get("clip_ratio/region_mean [r1_zero, all]").asDouble(), 1e-12);
        assertTrue(Files.exists(root.resolve("plots/finding-r1_zero-entropy.png")));
        // the base model was pretrained once: the second variant borrowed it
        assertTrue(JSON.readTree(root.resolve("epsilon_high=0.28/seed-1/stages/pretrain.json").toFile()).has("borrowed_from"));
    }

    @Test
    void distillVsRl(@TempDir Path tmp) throws Exception {
        List<String> sets = new ArrayList<>(QUICKSTART_TINY);
        sets.addAll(List.of("stages.teacher_rl.max_steps=2", "stages.teacher_rl.prompts_per_step=2", "stages.teacher_rl.num_generations=2",
                "stages.teacher_rl.max_completion_length=8", "stages.teacher_rl.log_completions_steps=0",
                "stages.pretrain_student.model.scratch.hidden_size=16", "stages.pretrain_student.model.scratch.intermediate_size=32",
                "stages.pretrain_student.model.scratch.num_layers=1", "stages.pretrain_student.model.scratch.num_heads=2",
                "stages.pretrain_student.max_steps=3", "stages.pretrain_student.batch_size=2", "stages.pretrain_student.max_seq_length=64",
                "stages.distill.max_prompts=6", "stages.distill.sampling.samples_per_prompt=2", "stages.distill.sampling.max_new_tokens=8",
                "stages.distill.sampling.judge=none", "stages.distill.sampling.language_threshold=0",
                "stages.distill.sampling.drop_truncated=false", "stages.distill.sft.max_steps=2", "stages.distill.sft.batch_size=2",
                "stages.distill.eval.max_completion_length=8",
                "stages.student_rl.max_steps=2", "stages.student_rl.prompts_per_step=2", "stages.student_rl.num_generations=2",
                "stages.student_rl.max_completion_length=8"));
        Path root = tmp.resolve("distill");
        JsonNode f = run("distill-vs-rl", root, sets);
        Path r = root.resolve("teacher-4x/seed-1");
        JsonNode m = f.get("measured").get("teacher-4x").get("seed-1");
        for (String stage : List.of("distill", "student_rl")) {
            assertEquals(evalValue(r, stage, "accuracy"), m.get("accuracy [eval/" + stage + ".json]").asDouble(), 1e-12);
            assertEquals(evalValue(r, stage, "train/flops"), m.get("train/flops [eval/" + stage + ".json]").asDouble(), 1e-12);
        }
        // the counted FLOPs: 6·N per SFT token; (2 + 6)·N per GRPO rollout token (one update per step)
        double params = evalValue(r, "distill", "model/params");
        assertEquals(6 * params * evalValue(r, "distill", "train/tokens"), evalValue(r, "distill", "train/flops"), 1e-6);
        assertEquals(params, evalValue(r, "student_rl", "model/params"), 0, "both students are the same model");
        List<Double> tokens = series(r, "student_rl", "num_tokens");
        assertEquals(8 * params * tokens.get(tokens.size() - 1), evalValue(r, "student_rl", "train/flops"), 1e-6);
        assertEquals(evalValue(r, "teacher_rl", "model/params") / params, f.get("checks").get(0).get("value_on_mean").asDouble(), 1e-9);
    }

    @Test
    void languageConsistency(@TempDir Path tmp) throws Exception {
        List<String> sets = List.of(
                "data.corpus_en.generate.n=150", "data.corpus_ru.generate.n=60", "data.corpus_bi.generate.n=60", "data.train.generate.n=20",
                "data.cold_start_prompts.generate.n=6", "data.test.generate.n=4", "data.general.generate.n=10",
                "data.general_test.generate.n=4", "data.prefs.generate.n=10",
                "model.scratch.hidden_size=32", "model.scratch.intermediate_size=64", "model.scratch.num_layers=1",
                "model.scratch.num_heads=2", "stages.pretrain.max_steps=3", "stages.pretrain.batch_size=2", "stages.pretrain.max_seq_length=64",
                "stages.r1_zero.max_steps=2", "stages.r1_zero.prompts_per_step=2", "stages.r1_zero.num_generations=2",
                "stages.r1_zero.max_completion_length=8", "stages.r1_zero.eval_num_samples=1", "stages.r1_zero.eval_temperature=0",
                // a 3-step base model writes nothing the cold start can rewrite: take the data's written chains instead
                "stages.cold_start.source=null", "stages.cold_start.candidates_column=completion", "stages.cold_start.data=train",
                "stages.cold_start.sampling={judge: none, language_threshold: 0}",
                "stages.cold_start.sft.max_steps=2", "stages.cold_start.sft.batch_size=2", "stages.cold_start.eval.max_completion_length=8",
                "stages.cold_start.eval.num_samples=1", "stages.cold_start.eval.temperature=0",
                "stages.reasoning_rl.max_steps=2", "stages.reasoning_rl.prompts_per_step=2", "stages.reasoning_rl.num_generations=2",
                "stages.reasoning_rl.max_completion_length=8", "stages.reasoning_rl.eval_num_samples=2", "stages.reasoning_rl.log_completions_steps=0");
        Path root = tmp.resolve("lang");
        JsonNode f = run("language-consistency", root, sets);
        for (String variant : List.of("with_language_reward", "without_language_reward")) {
            Path r = root.resolve(variant).resolve("seed-1");
            JsonNode m = f.get("measured").get(variant).get("seed-1");
            assertEquals(evalValue(r, "reasoning_rl", "language_mixing_rate"),
                    m.get("language_mixing_rate [eval/reasoning_rl.json]").asDouble(), 1e-12);
            assertFalse(MetricsFile.read(r.resolve("metrics.jsonl")).series("reasoning_rl", "rewards/language_consistency/mean").isEmpty());
        }
        JsonNode check = f.get("checks").get(0);
        assertEquals(check.get("left").get("mean").asDouble() - check.get("right").get("mean").asDouble(),
                check.get("value_on_mean").asDouble(), 1e-12);
        // the same cold-start model for both variants: the second borrowed every stage before reasoning_rl
        assertTrue(JSON.readTree(root.resolve("without_language_reward/seed-1/stages/cold_start.json").toFile()).has("borrowed_from"));
    }

    @Test
    void everyFindingsFileLoadsValidatesAndIsListed() {
        Cli.Result r = Cli.run("findings", "list", "--dir", DIR.toString());
        assertEquals(0, r.exit(), r.err());
        for (String name : List.of("clip-higher-entropy", "distill-vs-rl", "language-consistency")) {
            assertTrue(r.out().contains(name), r.out());
        }
        Cli.Result dry = Cli.run("findings", "run", "--all", "--dir", DIR.toString(), "--run-dir", "/nonexistent/findings", "--dry-run");
        assertEquals(0, dry.exit(), dry.err());
        assertTrue(dry.out().contains("clip-higher-entropy  epsilon_high=0.28  seed 3  /nonexistent/findings/clip-higher-entropy/epsilon_high=0.28/seed-3"),
                dry.out());
        assertTrue(dry.out().contains("language-consistency  without_language_reward  seed 1"), dry.out());
        Cli.Result bad = Cli.run("findings", "run", "no-such-finding", "--dir", DIR.toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("no finding 'no-such-finding'") && bad.err().contains("clip-higher-entropy"), bad.err());
    }
}
