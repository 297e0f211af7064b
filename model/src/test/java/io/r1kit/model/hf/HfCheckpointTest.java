package io.r1kit.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole model directories: save, reopen bit-exact, shard, replace atomically, reject bad indexes. */
class HfCheckpointTest {

    @TempDir
    Path tmp;

    /** A tiny Qwen3-shaped model: embedding, 2 layers of attention/MLP/norm weights, lm_head. */
    static List<NamedTensor> tinyModel(HfModelConfig c, long seed) {
        List<NamedTensor> t = new ArrayList<>();
        int h = c.hiddenSize(), q = c.numAttentionHeads() * c.headDim(), kv = c.numKeyValueHeads() * c.headDim();
        t.add(new NamedTensor("model.embed_tokens.weight", new int[] {c.vocabSize(), h},
                SafetensorsWriterTest.randomFloats(c.vocabSize() * h, seed)));
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "model.layers." + l + ".";
            t.add(new NamedTensor(p + "self_attn.q_proj.weight", new int[] {q, h}, SafetensorsWriterTest.randomFloats(q * h, seed + 10 * l + 1)));
            t.add(new NamedTensor(p + "self_attn.k_proj.weight", new int[] {kv, h}, SafetensorsWriterTest.randomFloats(kv * h, seed + 10 * l + 2)));
            t.add(new NamedTensor(p + "self_attn.v_proj.weight", new int[] {kv, h}, SafetensorsWriterTest.randomFloats(kv * h, seed + 10 * l + 3)));
            t.add(new NamedTensor(p + "self_attn.o_proj.weight", new int[] {h, q}, SafetensorsWriterTest.randomFloats(h * q, seed + 10 * l + 4)));
            t.add(new NamedTensor(p + "self_attn.q_norm.weight", new int[] {c.headDim()}, SafetensorsWriterTest.randomFloats(c.headDim(), seed + 10 * l + 5)));
            t.add(new NamedTensor(p + "mlp.gate_proj.weight", new int[] {c.intermediateSize(), h},
                    SafetensorsWriterTest.randomFloats(c.intermediateSize() * h, seed + 10 * l + 6)));
            t.add(new NamedTensor(p + "input_layernorm.weight", new int[] {h}, SafetensorsWriterTest.randomFloats(h, seed + 10 * l + 7)));
        }
        t.add(new NamedTensor("model.norm.weight", new int[] {h}, SafetensorsWriterTest.randomFloats(h, seed + 99)));
        t.add(new NamedTensor("lm_head.weight", new int[] {c.vocabSize(), h}, SafetensorsWriterTest.randomFloats(c.vocabSize() * h, seed + 98)));
        return t;
    }

    static HfModelConfig tinyConfig() {
        return HfModelConfig.of(HfModelConfig.Architecture.QWEN3, 37, 16, 24, 2, 4, 2)
                .withSpecialTokens(null, List.of(2), 0);
    }

    private static void assertSameTensors(List<NamedTensor> expected, HfCheckpoint ck) throws IOException {
        assertEquals(expected.size(), ck.tensorNames().size());
        for (NamedTensor t : expected) {
            assertArrayEquals(t.shape(), ck.info(t.name()).shape(), t.name());
            float[] back = ck.load(t.name());
            assertEquals(t.data().length, back.length);
            for (int i = 0; i < back.length; i++) {
                if (Float.floatToRawIntBits(t.data()[i]) != Float.floatToRawIntBits(back[i])) {
                    throw new AssertionError(t.name() + "[" + i + "]: " + t.data()[i] + " != " + back[i]);
                }
            }
        }
    }

    @Test
    void singleFileF32RoundTripIsBitExact() throws IOException {
        HfModelConfig c = tinyConfig();
        List<NamedTensor> model = tinyModel(c, 1);
        Path dir = tmp.resolve("m");
        new HfCheckpointWriter().config(c).save(dir, model);
        assertTrue(Files.exists(dir.resolve("model.safetensors")));
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertEquals(c, ck.config());
            assertEquals("float32", ck.rawConfig().get("torch_dtype").asText());
            assertSameTensors(model, ck);
            assertThrows(CheckpointException.class, () -> ck.load("model.layers.9.mlp.up_proj.weight"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> ck.load("model.norm.weight", 17));
            assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("[16]"), e.getMessage());
            // Saving what we loaded reproduces identical weight files.
            Path again = tmp.resolve("again");
            new HfCheckpointWriter().copyFrom(ck).save(again, ck.loadAllNamed());
            assertArrayEquals(Files.readAllBytes(dir.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")));
        }
    }

    @Test
    void bf16SaveStoresRoundedValuesAndReopensExactly() throws IOException {
        HfModelConfig c = tinyConfig();
        List<NamedTensor> model = tinyModel(c, 2);
        Path dir = tmp.resolve("bf");
        new HfCheckpointWriter().config(c).dtype(DType.BF16).save(dir, model);
        List<NamedTensor> rounded = new ArrayList<>();
        for (NamedTensor t : model) {
            float[] r = t.data().clone();
            for (int i = 0; i < r.length; i++) r[i] = FloatFormats.roundToBf16(r[i]);
            rounded.add(new NamedTensor(t.name(), t.shape(), r));
        }
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertEquals("bfloat16", ck.rawConfig().get("torch_dtype").asText());
            assertEquals(DType.BF16, ck.info("lm_head.weight").dtype());
            assertSameTensors(rounded, ck);
        }
    }

    @Test
    void shardedRoundTripWritesCorrectIndex() throws IOException {
        HfModelConfig c = tinyConfig();
        List<NamedTensor> model = tinyModel(c, 3);
        long total = 0;
        for (NamedTensor t : model) total += 4L * t.data().length;
        Path dir = tmp.resolve("sharded");
        long limit = 37 * 16 * 4 + 100; // the embedding alone nearly fills a shard
        new HfCheckpointWriter().config(c).maxShardBytes(limit).save(dir, model);

        JsonNode index = HfJson.read(dir.resolve("model.safetensors.index.json"));
        assertEquals(total, index.get("metadata").get("total_size").asLong());
        JsonNode wm = index.get("weight_map");
        assertEquals(model.size(), wm.size());
        List<String> shardFiles;
        try (Stream<Path> s = Files.list(dir)) {
            shardFiles = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
        }
        int n = shardFiles.size();
        assertTrue(n >= 3, "expected several shards, got " + shardFiles);
        for (int i = 0; i < n; i++) assertEquals(String.format("model-%05d-of-%05d.safetensors", i + 1, n), shardFiles.get(i));
        // Every shard respects the limit unless it holds a single oversize tensor; the sizes add up.
        long sum = 0;
        for (String f : shardFiles) {
            try (SafetensorsReader r = SafetensorsReader.open(dir.resolve(f))) {
                long bytes = r.tensors().values().stream().mapToLong(TensorInfo::byteSize).sum();
                assertTrue(bytes <= limit || r.tensors().size() == 1, f + " has " + bytes + " bytes");
                for (String name : r.tensors().keySet()) assertEquals(f, wm.get(name).asText(), name);
                sum += bytes;
            }
        }
        assertEquals(total, sum);
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertSameTensors(model, ck);
        }
    }

    @Test
    void saveReplacesExistingDirectoryAndCopiesSideFiles() throws IOException {
        HfModelConfig c = tinyConfig();
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("tokenizer.json"), "{\"tok\":1}");
        Files.writeString(src.resolve("tokenizer_config.json"), "{\"eos_token\":\"x\"}");
        Files.writeString(src.resolve("unrelated.txt"), "not copied");
        JsonNode gen = new HfGenerationConfig(null, List.of(2), null, true, 0.6, null, null, null, null).toJson();

        Path dir = tmp.resolve("out");
        new HfCheckpointWriter().config(c).tokenizerFrom(src).generationConfig(gen).save(dir, tinyModel(c, 4));
        Files.writeString(dir.resolve("stale.txt"), "from the first save");
        List<NamedTensor> second = tinyModel(c, 5);
        new HfCheckpointWriter().config(c).tokenizerFrom(src).generationConfig(gen).save(dir, second);

        assertFalse(Files.exists(dir.resolve("stale.txt")), "the old directory must be replaced, not merged");
        assertEquals("{\"tok\":1}", Files.readString(dir.resolve("tokenizer.json")));
        assertTrue(Files.exists(dir.resolve("tokenizer_config.json")));
        assertFalse(Files.exists(dir.resolve("unrelated.txt")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("out", "src"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary or old directories may be left behind");
        }
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertSameTensors(second, ck);
            assertEquals(List.of(2), ck.generationConfig().orElseThrow().eosTokenIds());
            assertEquals(0.6, ck.generationConfig().orElseThrow().temperature());
            assertEquals(dir.resolve("tokenizer.json"), ck.tokenizerFile().orElseThrow());
        }
    }

    @Test
    void failedSaveLeavesPreviousCheckpointIntact() throws IOException {
        HfModelConfig c = tinyConfig();
        Path dir = tmp.resolve("keep");
        List<NamedTensor> first = tinyModel(c, 6);
        new HfCheckpointWriter().config(c).save(dir, first);
        List<NamedTensor> dup = new ArrayList<>(tinyModel(c, 7));
        dup.add(dup.get(0)); // duplicate name: the writer fails midway
        assertThrows(IllegalArgumentException.class, () -> new HfCheckpointWriter().config(c).save(dir, dup));
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            assertSameTensors(first, ck);
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("keep"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void rejectsMissingWeightsAndBadIndex() throws IOException {
        HfModelConfig c = tinyConfig();
        Path dir = tmp.resolve("bad");
        Files.createDirectories(dir);
        c.write(dir.resolve("config.json"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());

        Path sharded = tmp.resolve("sh");
        new HfCheckpointWriter().config(c).maxShardBytes(3000).save(sharded, tinyModel(c, 8));
        Path index = sharded.resolve("model.safetensors.index.json");
        String good = Files.readString(index);

        Files.writeString(index, good.replace("\"model.norm.weight\" : \"", "\"model.norm.weight\" : \"../"));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(sharded));
        assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("plain file name"), e.getMessage());

        Files.writeString(index, good.replace("\"lm_head.weight\"", "\"lm_head.weight_renamed\""));
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(sharded));
        assertTrue(e.getMessage().contains("lm_head.weight_renamed"), e.getMessage());

        Files.writeString(index, "{\"weight_map\": 3}");
        e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(sharded));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("weight_map"), e.getMessage());
    }

    @Test
    void writtenConfigParsesBackForEachFamily() throws IOException {
        for (HfModelConfig.Architecture a : HfModelConfig.Architecture.values()) {
            if (a == HfModelConfig.Architecture.DEEPSEEK_V3) continue;   // its own keys: DeepseekV3CheckpointTest
            HfModelConfig c = HfModelConfig.of(a, 100, 64, 128, 3, 8, 2).withSpecialTokens(1, List.of(2, 3), 0)
                    .withTieWordEmbeddings(true);
            if (a == HfModelConfig.Architecture.LLAMA) {
                c = c.withRope(500000.0, HfModelConfig.RopeScaling.llama3(8.0, 1.0, 4.0, 8192), 131072);
            }
            Path f = tmp.resolve(a + ".json");
            c.write(f);
            assertEquals(c, HfModelConfig.read(f), a.toString());
            String text = Files.readString(f, StandardCharsets.UTF_8);
            assertTrue(text.contains("\"" + a.className() + "\""), text);
            assertTrue(text.contains("\"model_type\" : \"" + a.modelType() + "\""), text);
        }
    }
}
