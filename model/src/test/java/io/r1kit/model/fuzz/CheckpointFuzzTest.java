package io.r1kit.model.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.hf.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz targets for what r1kit reads of a Hugging Face checkpoint it did not write: the safetensors
 * header and layout (every dtype, including FP8 and integers), the sharded index, and config.json of
 * each architecture loaded into a model. The contract is {@link Fuzz}'s: a {@link CheckpointException}
 * (an {@link IOException}) naming the file, or acceptance.
 */
class CheckpointFuzzTest {

    private static final List<Class<? extends Throwable>> DOCUMENTED = List.of(IOException.class);

    @TempDir
    Path tmp;

    /** A safetensors file with one tensor of each kind the reader accepts, padded as the official writer pads. */
    static byte[] safetensorsSeed() {
        String header = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b.bf16\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                + "\"c.f16\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[32,40]},"
                + "\"d.i64\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[40,56]},"
                + "\"e.fp8\":{\"dtype\":\"F8_E4M3\",\"shape\":[2,4],\"data_offsets\":[56,64]},"
                + "\"f.empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[64,64]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(8 + padded + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) b.put((byte) ' ');
        for (int i = 0; i < 6; i++) b.putFloat(i * 0.5f - 1);
        for (int i = 0; i < 4; i++) b.putShort((short) (0x3f80 + i));
        for (int i = 0; i < 4; i++) b.putShort((short) (0x3c00 + i));
        b.putLong(7).putLong(-3);
        for (int i = 0; i < 8; i++) b.put((byte) (0x30 + i));
        return b.array();
    }

    @Test
    void safetensorsHeaderAndLayout() throws Exception {
        Path file = tmp.resolve("fuzz-input.safetensors");
        int accepted = new FuzzTarget("safetensors", List.of(safetensorsSeed())).run(DOCUMENTED, "fuzz-input.safetensors", input -> {
            Files.write(file, input);
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                for (TensorInfo t : r.tensors().values()) {
                    if (t.dtype().isFloatLoadable()) r.loadFloats(t.name());
                    else if (t.dtype().isIntegerLoadable()) r.loadLongs(t.name());
                }
            }
        });
        assertTrue(accepted > 0, "the valid seed must be accepted");
    }

    @Test
    void safetensorsHeaderClaimingHugeTensorsAllocatesNothingLarge() throws Exception {
        // a header that describes 2^40 bytes of data in a file of a few hundred: refused before allocating
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,262144],\"data_offsets\":[0,1099511627776]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = tmp.resolve("huge.safetensors");
        boolean ok = Fuzz.check("safetensors", b.array(), DOCUMENTED, "huge.safetensors", input -> {
            Files.write(file, input);
            try (SafetensorsReader r = SafetensorsReader.open(file)) {
                r.loadFloats("w");
            }
        });
        assertTrue(!ok, "a header pointing past the end of the file must be refused");
    }

    /** A tiny saved model of each architecture; each config.json is a seed. */
    private List<Path> tinyCheckpoints() throws IOException {
        List<Path> dirs = new ArrayList<>();
        ModelConfig[] configs = {
            ModelConfig.llama(40, 16, 24, 1, 4, 2),
            ModelConfig.qwen2(40, 16, 24, 1, 4, 2),
            ModelConfig.qwen3(40, 16, 24, 1, 4, 2).withTieEmbeddings(true),
        };
        for (ModelConfig c : configs) {
            Path d = tmp.resolve("ckpt-" + c.family().name().toLowerCase());
            CausalLM.random(c, 1).save(d, DType.F32);
            dirs.add(d);
        }
        return dirs;
    }

    @Test
    void configJsonOfEachArchitecture() throws Exception {
        for (Path d : tinyCheckpoints()) {
            Path config = d.resolve(HfCheckpoint.CONFIG);
            byte[] seed = Files.readAllBytes(config);
            String target = "config-json-" + d.getFileName().toString().substring(5);
            int accepted = new FuzzTarget(target, List.of(seed)).run(DOCUMENTED, d.getFileName().toString(), input -> {
                Files.write(config, input);
                CausalLM.load(d);
            });
            Files.write(config, seed);
            assertTrue(accepted > 0, target + ": the valid seed must be accepted");
        }
    }

    @Test
    void shardedIndex() throws Exception {
        Path d = tinyCheckpoints().get(0);
        // the same weights, split in two shards with an index, as large checkpoints are published
        CausalLM m = CausalLM.load(d);
        Path sharded = tmp.resolve("ckpt-sharded");
        m.save(sharded, m.writer().dtype(DType.F32).maxShardBytes(4096));
        Path index = sharded.resolve(HfCheckpoint.INDEX_FILE);
        assertTrue(Files.exists(index), "the writer must have sharded the model");
        byte[] seed = Files.readAllBytes(index);
        int accepted = new FuzzTarget("sharded-index", List.of(seed)).run(DOCUMENTED, "ckpt-sharded", input -> {
            Files.write(index, input);
            CausalLM.load(sharded);
        });
        assertTrue(accepted > 0);
    }
}
