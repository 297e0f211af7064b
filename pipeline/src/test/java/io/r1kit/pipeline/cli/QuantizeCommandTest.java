package io.r1kit.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.pipeline.testing.Cli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {
    @TempDir
    Path tmp;

    @Test
    void quantizeWritesAnFp8CheckpointThatLoads() throws Exception {
        Path src = tmp.resolve("m"), out = tmp.resolve("m-fp8");
        CausalLM.random(ModelConfig.llama(64, 128, 256, 1, 2, 2), 1).save(src, DType.BF16);
        Cli.Result r = Cli.run("quantize", "--model", src.toString(), "--out", out.toString(), "--format", "fp8-block");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("7 weight(s) to FP8"), r.err());
        try (HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertTrue(ck.isFp8Scaled("model.layers.0.self_attn.q_proj.weight"));
            assertEquals(DType.BF16, ck.info("model.embed_tokens.weight").dtype(), "kept tensors keep their dtype");
        }
        assertEquals(128, CausalLM.load(out).config().hiddenSize());

        Cli.Result bad = Cli.run("quantize", "--model", src.toString(), "--out", out.toString(), "--format", "int4");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("fp8-block"), bad.err());
    }
}
