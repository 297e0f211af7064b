package io.r1kit.pipeline.run;

import io.r1kit.pipeline.testing.Cli;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DType;
import io.r1kit.model.tokenizer.CharTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.r1kit.pipeline.run.R1StagesRunTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped R1 pipeline configs validate: the tiny one as is, the Qwen2.5 one once its paths are given. */
class R1PipelineConfigsTest {
    private static final Path CONFIGS = Path.of(System.getProperty("user.dir")).getParent().resolve("configs");

    @Test
    void tinyPipelineValidatesWithEveryStageType() {
        Cli.Result r = cli("validate", CONFIGS.resolve("r1-pipeline-tiny.yaml").toString());
        assertEquals(0, r.exit(), r.err());
        for (String t : List.of("[pretrain]", "[eval]", "[grpo]", "[cold_start]", "[rejection_sampling]", "[reward_model]", "[distill]")) {
            assertTrue(r.out().contains(t), t + " in " + r.out());
        }
    }

    @Test
    void qwenPipelineValidatesOncePathsAreGiven(@TempDir Path tmp) throws Exception {
        Path cfg = CONFIGS.resolve("r1-pipeline-qwen2.5.yaml");
        // a tiny Qwen2-architecture HF directory standing in for the checkpoints
        Path hf = tmp.resolve("qwen-tiny");
        CharTokenizer tok = CharTokenizer.fromCorpus(List.of("abc 123 <think></think><answer></answer>"), CharTokenizer.REASONING_TAGS);
        Files.createDirectories(hf);
        tok.save(hf);
        // Qwen2.5's context (32768 positions; the config's reasoning stages generate up to 2048 tokens after their prompts)
        CausalLM.random(ModelConfig.qwen2(tok.vocabSize(), 16, 32, 1, 2, 1).withRope(1e6, RopeTables.Scaling.none(), 32768), 1)
                .save(hf, DType.F32);
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        for (String f : List.of("train.jsonl", "test.jsonl")) Files.writeString(data.resolve(f), "{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\n");
        Files.writeString(data.resolve("general_prompts.jsonl"), "{\"prompt\": \"hello\"}\n");
        Files.writeString(data.resolve("non_reasoning.jsonl"), "{\"prompt\": \"hello\", \"completion\": \"hi\"}\n");
        Files.writeString(data.resolve("preferences.jsonl"), "{\"prompt\": \"hello\", \"chosen\": \"hi\", \"rejected\": \"go\"}\n");

        // without the paths: the missing variable is named
        Cli.Result bare = cli("validate", cfg.toString());
        if (System.getenv("QWEN25_DIR") == null) {
            assertEquals(2, bare.exit());
            assertTrue(bare.err().contains("QWEN25_DIR"), bare.err());
        }

        List<String> args = new ArrayList<>(List.of("validate", cfg.toString()));
        for (String[] kv : new String[][] {
                {"model", hf.toString()},
                {"data.train.path", data.resolve("train.jsonl").toString()},
                {"data.test.path", data.resolve("test.jsonl").toString()},
                {"data.general.path", data.resolve("general_prompts.jsonl").toString()},
                {"data.non_reasoning.path", data.resolve("non_reasoning.jsonl").toString()},
                {"data.preferences.path", data.resolve("preferences.jsonl").toString()},
                {"stages.distill.model", hf.toString()},
                {"stages.student_rl.model", hf.toString()}}) {
            args.add("--set");
            args.add(kv[0] + "=" + kv[1]);
        }
        Cli.Result r = cli(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("ok (10 stages"), r.out());
        for (String t : List.of("[cold_start]", "[rejection_sampling]", "[reward_model]", "[distill]")) assertTrue(r.out().contains(t), r.out());
    }
}
