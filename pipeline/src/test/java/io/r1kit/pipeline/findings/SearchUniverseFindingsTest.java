package io.r1kit.pipeline.findings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * length-and-reflection and dr-grpo-length-bias (configs/findings/, over configs/r1-zero-search.yaml) run
 * end to end at tiny sizes (one seed, three GRPO steps, via --run-set): finding.json is written with the
 * rule evaluated on the runs' own metrics, which this test reads independently of the evaluator.
 */
class SearchUniverseFindingsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path DIR = Path.of("..", "configs", "findings").toAbsolutePath().normalize();

    /** Tiny sizes for the countdown search universe. */
    private static final List<String> TINY = List.of(
            "data.corpus.generate.n=300", "data.train.generate.n=40", "data.test.generate.n=6",
            "model.scratch.hidden_size=32", "model.scratch.intermediate_size=64", "model.scratch.num_layers=1",
            "model.scratch.num_heads=2", "stages.pretrain.max_steps=3", "stages.pretrain.batch_size=2",
            "stages.pretrain.max_seq_length=64", "stages.r1_zero.max_steps=3", "stages.r1_zero.prompts_per_step=2",
            "stages.r1_zero.num_generations=4", "stages.r1_zero.max_completion_length=12", "stages.r1_zero.log_completions_steps=0",
            "stages.base_eval.max_completion_length=12", "stages.final_eval.max_completion_length=12");

    /** Runs one finding through the CLI at the tiny sizes above, returning its finding.json. */
    private static JsonNode run(String name, Path root) throws Exception {
        List<String> args = new ArrayList<>(List.of("findings", "run", name, "--dir", DIR.toString(), "--run-dir", root.toString(),
                "--seeds", "1"));
        for (String s : TINY) {
            args.add("--run-set");
            args.add(s);
        }
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err() + r.out());
        JsonNode f = JSON.readTree(root.resolve("finding.json").toFile());
        assertEquals(name, f.get("name").asText());
        assertFalse(f.get("holds").asBoolean(), "one seed is below the rule's min_seeds");
        assertTrue(f.get("reasons").get(0).asText().contains("the rule needs at least 3"), f.get("reasons").toString());
        return f;
    }

    private static List<Double> series(Path run, String metric) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if ("r1_zero".equals(n.path("stage").asText()) && n.path(metric).isNumber()) out.add(n.get(metric).asDouble());
        }
        return out;
    }

    @Test
    void lengthAndReflection(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("lr");
        JsonNode f = run("length-and-reflection", root);
        Path r = root.resolve("r1_zero/seed-1");
        JsonNode m = f.get("measured").get("r1_zero").get("seed-1");
        for (String metric : List.of("completions/mean_length", "accuracy", "completions/reflection_rate")) {
            List<Double> v = series(r, metric);
            assertEquals(3, v.size(), "a " + metric + " value per RL step");
            // 10% of 3 steps rounds to 0: the window is one step
            assertEquals(v.get(0), m.get(metric + " [r1_zero, first 10%]").asDouble(), 1e-12);
            assertEquals(v.get(2), m.get(metric + " [r1_zero, last 10%]").asDouble(), 1e-12);
        }
        assertTrue(JSON.readTree(r.resolve("eval/final_eval.json").toFile()).get("completions/reflection_rate").isNumber());
    }

    @Test
    void drGrpoLengthBias(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("dr");
        JsonNode f = run("dr-grpo-length-bias", root);
        for (String variant : List.of("loss_type=grpo", "loss_type=dr_grpo")) {
            Path r = root.resolve(variant).resolve("seed-1");
            JsonNode m = f.get("measured").get(variant).get("seed-1");
            assertEquals(JSON.readTree(r.resolve("eval/final_eval.json").toFile()).get("accuracy").asDouble(),
                    m.get("accuracy [eval/final_eval.json]").asDouble(), 1e-12);
            assertTrue(m.has("completions/mean_length_incorrect [r1_zero, last 10%]"), m.toString());
            assertTrue(Files.readString(r.resolve("config.yaml")).contains("loss_type: \"" + variant.substring("loss_type=".length()) + "\""));
        }
        // the base model was pretrained once: the second variant borrowed it
        assertTrue(JSON.readTree(root.resolve("loss_type=dr_grpo/seed-1/stages/pretrain.json").toFile()).has("borrowed_from"));
    }
}
