package io.r1kit.model.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.generate.LogprobsJsonl;
import io.r1kit.model.hf.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fuzz target for the input lines of {@code r1kit logprobs}: an IOException naming the input file, or scores. */
class LogprobsInputFuzzTest {

    @TempDir
    Path tmp;

    @Test
    void logprobsInputLines() throws Exception {
        Path model = tmp.resolve("model");
        CausalLM.random(ModelConfig.qwen2(40, 16, 24, 1, 4, 2).withRope(10000, null, 32), 3).save(model, DType.F32);
        byte[] seed = """
                {"prompt_ids": [1, 2, 3], "completion_ids": [4, 5]}
                {"prompt_ids": [7], "completion_ids": [], "id": "x"}

                {"prompt_ids": [39, 0, 12, 12], "completion_ids": [1, 1, 1, 1, 1, 1, 1, 1]}
                """.getBytes(StandardCharsets.UTF_8);
        Path in = tmp.resolve("fuzz-lines.jsonl"), out = tmp.resolve("out.jsonl");
        int accepted = new FuzzTarget("logprobs-input", List.of(seed)).run(List.of(IOException.class), "fuzz-lines.jsonl",
                input -> {
                    Files.write(in, input);
                    LogprobsJsonl.run(model, in, out, 2, 1.0f);
                });
        assertTrue(accepted > 0, "the valid seed must be accepted");
    }
}
