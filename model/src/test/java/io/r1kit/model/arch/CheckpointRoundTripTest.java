package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.tensor.Parameter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Save → load in the Hugging Face layout: bit-exact logits, names, sharding, BF16 rounding, errors. */
class CheckpointRoundTripTest {
    @TempDir
    Path tmp;

    static float[] logits(CausalLM m) {
        int[] ids = ArchTestSupport.randomIds(3, 14, m.config().vocabSize());
        try (var ng = Grad.noGrad()) {
            return m.forward(ids, 2, 7, null, null).data();
        }
    }

    @Test
    void f32SaveLoadIsBitExactForEveryFamily() throws IOException {
        for (ModelConfig c : List.of(ArchTestSupport.llama3(), ArchTestSupport.qwen2Tied(), ArchTestSupport.qwen3(),
                ArchTestSupport.llamaTied().withAttentionBias(true).withMlpBias(true))) {
            CausalLM m = CausalLM.random(c, 1);
            ArchTestSupport.perturb(m, 2);
            Path dir = tmp.resolve(c.family().modelType() + (c.tieEmbeddings() ? "-tied" : ""));
            m.save(dir, DType.F32);
            try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
                assertEquals(m.parameters().stream().map(Parameter::name).collect(Collectors.toSet()),
                        new java.util.HashSet<>(ck.tensorNames()), "tensor names are exactly the HF parameter names");
                assertEquals(!c.tieEmbeddings(), ck.contains("lm_head.weight"));
            }
            CausalLM back = CausalLM.load(dir);
            assertEquals(c, back.config(), "config.json round trip");
            assertArrayEquals(logits(m), logits(back), c.family() + ": saved-then-loaded logits are identical");
        }
    }

    /** BF16 round-to-nearest-even, written here independently of the hf package. */
    static float bf16(float f) {
        int b = Float.floatToRawIntBits(f);
        int rounded = (b + 0x7FFF + ((b >>> 16) & 1)) & 0xFFFF0000;
        return Float.intBitsToFloat(rounded);
    }

    @Test
    void bf16ShardedSaveLoadsTheRoundedWeights() throws IOException {
        ModelConfig c = ArchTestSupport.qwen3();
        CausalLM m = CausalLM.random(c, 3);
        ArchTestSupport.perturb(m, 4);
        Path dir = tmp.resolve("bf16");
        m.save(dir, m.writer().dtype(DType.BF16).maxShardBytes(20_000));
        assertTrue(Files.exists(dir.resolve(HfCheckpoint.INDEX_FILE)), "sharded");
        assertTrue(Files.list(dir).filter(p -> p.toString().endsWith(".safetensors")).count() > 2);
        CausalLM back = CausalLM.load(dir);
        CausalLM rounded = m.copy();
        for (Parameter p : rounded.parameters()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] = bf16(d[i]);
        }
        for (int i = 0; i < m.parameters().size(); i++) {
            assertArrayEquals(rounded.parameters().get(i).data(), back.parameters().get(i).data(), rounded.parameters().get(i).name());
        }
        assertArrayEquals(logits(rounded), logits(back));
        String cfg = Files.readString(dir.resolve("config.json"));
        assertTrue(cfg.contains("\"torch_dtype\" : \"bfloat16\""), cfg);
    }

    @Test
    void tokenizerGenerationConfigAndUnknownConfigKeysSurviveALoadedModelsSave() throws IOException {
        CausalLM m = CausalLM.random(ArchTestSupport.llamaTied(), 5);
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        m.save(a, m.writer().extraFile("tokenizer.json", "{\"fake\": true}".getBytes(StandardCharsets.UTF_8)));
        ObjectMapper om = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) om.readTree(a.resolve("config.json").toFile());
        cfg.put("my_custom_key", 42);
        Files.writeString(a.resolve("config.json"), cfg.toString());
        Files.writeString(a.resolve("generation_config.json"), "{\"temperature\": 0.6, \"top_p\": 0.95}");
        CausalLM.load(a).save(b, DType.F32);
        assertEquals(0.6, om.readTree(b.resolve("generation_config.json").toFile()).get("temperature").asDouble());
        assertEquals("{\"fake\": true}", Files.readString(b.resolve("tokenizer.json")));
        assertEquals(42, om.readTree(b.resolve("config.json").toFile()).get("my_custom_key").asInt());
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        CausalLM m = CausalLM.random(ArchTestSupport.qwen2Tied(), 6);
        Path dir = tmp.resolve("missing");
        List<NamedTensor> ts = m.namedTensors().stream().filter(t -> !t.name().equals("model.layers.1.self_attn.k_proj.bias")).toList();
        m.writer().save(dir, ts);
        CheckpointException e = assertThrows(CheckpointException.class, () -> CausalLM.load(dir));
        assertTrue(e.getMessage().contains("model.layers.1.self_attn.k_proj.bias") && e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void configProblemsNameTheKeyAndFile() throws IOException {
        CausalLM m = CausalLM.random(ArchTestSupport.llamaTied(), 7);
        Path dir = tmp.resolve("cfg");
        m.save(dir, DType.F32);
        ObjectMapper om = new ObjectMapper();
        Path cfgFile = dir.resolve("config.json");
        ObjectNode orig = (ObjectNode) om.readTree(cfgFile.toFile());

        ObjectNode bad = orig.deepCopy();
        bad.putArray("architectures").add("MistralForCausalLM");
        Files.writeString(cfgFile, bad.toString());
        IOException e = assertThrows(IOException.class, () -> CausalLM.load(dir));
        assertTrue(e.getMessage().contains("architectures") && e.getMessage().contains("config.json"), e.getMessage());

        bad = orig.deepCopy();
        bad.remove("hidden_size");
        Files.writeString(cfgFile, bad.toString());
        e = assertThrows(IOException.class, () -> CausalLM.load(dir));
        assertTrue(e.getMessage().contains("hidden_size") && e.getMessage().contains("config.json"), e.getMessage());

        bad = orig.deepCopy();
        bad.put("tie_word_embeddings", false);   // then lm_head.weight is required but absent
        Files.writeString(cfgFile, bad.toString());
        e = assertThrows(IOException.class, () -> CausalLM.load(dir));
        assertTrue(e.getMessage().contains("lm_head.weight"), e.getMessage());

        bad = orig.deepCopy();
        bad.put("num_hidden_layers", 1);         // layer 1's tensors are then unexpected
        Files.writeString(cfgFile, bad.toString());
        e = assertThrows(IOException.class, () -> CausalLM.load(dir));
        assertTrue(e.getMessage().contains("model.layers.1."), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }
}
