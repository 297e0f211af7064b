package io.r1kit.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json parsing on the published configs of each family (copies in test resources). */
class HfModelConfigTest {

    @TempDir
    Path tmp;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(HfModelConfigTest.class.getResource("/hf/" + name).toURI());
    }

    @Test
    void llama32WithLlama3RopeScalingAndEosList() throws Exception {
        HfModelConfig c = HfModelConfig.read(resource("llama-3.2-1b-instruct.config.json"));
        assertEquals(HfModelConfig.Architecture.LLAMA, c.architecture());
        assertEquals(128256, c.vocabSize());
        assertEquals(2048, c.hiddenSize());
        assertEquals(8192, c.intermediateSize());
        assertEquals(16, c.numHiddenLayers());
        assertEquals(32, c.numAttentionHeads());
        assertEquals(8, c.numKeyValueHeads());
        assertEquals(64, c.headDim());
        assertEquals(4, c.groupSize());
        assertEquals(131072, c.maxPositionEmbeddings());
        assertEquals(1e-5, c.rmsNormEps());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(HfModelConfig.RopeScaling.llama3(32.0, 1.0, 4.0, 8192), c.ropeScaling());
        assertTrue(c.tieWordEmbeddings());
        assertFalse(c.qkvBias() || c.outputBias() || c.mlpBias() || c.qkNorm());
        assertEquals(128000, c.bosTokenId());
        assertEquals(List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals("bfloat16", c.torchDtype());
    }

    @Test
    void llama2Defaults() throws Exception {
        HfModelConfig c = HfModelConfig.read(resource("llama-2-7b.config.json"));
        assertEquals(32, c.numKeyValueHeads(), "num_key_value_heads defaults to num_attention_heads");
        assertEquals(128, c.headDim(), "head_dim defaults to hidden_size / num_attention_heads");
        assertEquals(10000.0, c.ropeTheta(), "LlamaConfig default rope_theta");
        assertNull(c.ropeScaling());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(List.of(2), c.eosTokenIds());
    }

    @Test
    void qwen25HasQkvBiasOnly() throws Exception {
        HfModelConfig c = HfModelConfig.read(resource("qwen2.5-0.5b-instruct.config.json"));
        assertEquals(HfModelConfig.Architecture.QWEN2, c.architecture());
        assertEquals(64, c.headDim());
        assertEquals(2, c.numKeyValueHeads());
        assertTrue(c.qkvBias(), "Qwen2 attention always has q/k/v biases");
        assertFalse(c.outputBias());
        assertFalse(c.qkNorm());
        assertEquals(1_000_000.0, c.ropeTheta());
        assertEquals(List.of(151645), c.eosTokenIds());
    }

    @Test
    void qwen3HasExplicitHeadDimAndQkNorm() throws Exception {
        HfModelConfig c = HfModelConfig.read(resource("qwen3-0.6b.config.json"));
        assertEquals(HfModelConfig.Architecture.QWEN3, c.architecture());
        assertEquals(128, c.headDim(), "head_dim is explicit and differs from hidden/heads = 64");
        assertTrue(c.qkNorm());
        assertFalse(c.qkvBias());
        assertEquals(1_000_000.0, c.ropeTheta(), "an integer rope_theta is accepted");
        assertEquals(40960, c.maxPositionEmbeddings());
    }

    @Test
    void writerOutputForEachFamilyParsesBackEqual() throws Exception {
        for (String r : List.of("llama-3.2-1b-instruct", "llama-2-7b", "qwen2.5-0.5b-instruct", "qwen3-0.6b")) {
            HfModelConfig c = HfModelConfig.read(resource(r + ".config.json"));
            Path f = tmp.resolve(r + ".json");
            c.write(f);
            assertEquals(c, HfModelConfig.read(f), r);
        }
    }

    private CheckpointException bad(String json) throws IOException {
        Path f = Files.writeString(tmp.resolve("config" + System.nanoTime() + ".json"), json);
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfModelConfig.read(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        return e;
    }

    @Test
    void errorsNameTheKeyAndFile() throws Exception {
        ObjectNode ok = (ObjectNode) HfJson.read(resource("qwen3-0.6b.config.json"));

        ObjectNode noHidden = ok.deepCopy();
        noHidden.remove("hidden_size");
        assertTrue(bad(noHidden.toString()).getMessage().contains("'hidden_size': required key is missing"));

        ObjectNode gpt2 = ok.deepCopy();
        gpt2.putArray("architectures").add("GPT2LMHeadModel");
        String m = bad(gpt2.toString()).getMessage();
        assertTrue(m.contains("'architectures'") && m.contains("GPT2LMHeadModel") && m.contains("Qwen3ForCausalLM"), m);

        ObjectNode byType = ok.deepCopy();
        byType.remove("architectures");
        Path f = Files.writeString(tmp.resolve("bytype.json"), byType.toString());
        assertEquals(HfModelConfig.Architecture.QWEN3, HfModelConfig.read(f).architecture());
        byType.put("model_type", "mistral");
        assertTrue(bad(byType.toString()).getMessage().contains("'model_type'"));

        ObjectNode strHeads = ok.deepCopy();
        strHeads.put("num_attention_heads", "16");
        assertTrue(bad(strHeads.toString()).getMessage().contains("'num_attention_heads': expected an integer"));

        ObjectNode gelu = ok.deepCopy();
        gelu.put("hidden_act", "gelu");
        assertTrue(bad(gelu.toString()).getMessage().contains("'hidden_act'"));

        ObjectNode rope = ok.deepCopy();
        rope.putObject("rope_scaling").put("rope_type", "longrope").put("factor", 2.0);
        assertTrue(bad(rope.toString()).getMessage().contains("'rope_scaling.rope_type'"));

        ObjectNode llama3 = ok.deepCopy();
        llama3.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0);
        assertTrue(bad(llama3.toString()).getMessage().contains("'rope_scaling.low_freq_factor': required key is missing"));

        ObjectNode gqa = ok.deepCopy();
        gqa.put("num_key_value_heads", 3);
        assertTrue(bad(gqa.toString()).getMessage().contains("num_key_value_heads"));

        ObjectNode sliding = ok.deepCopy();
        sliding.put("use_sliding_window", true);
        assertTrue(bad(sliding.toString()).getMessage().contains("'use_sliding_window'"));

        assertTrue(bad("[1, 2]").getMessage().contains("JSON object"));
        assertTrue(bad("{\"a\": 1, \"a\": 2}").getMessage().contains("not valid JSON"));
    }
}
