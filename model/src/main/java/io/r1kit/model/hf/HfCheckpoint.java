package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face model directory opened for reading: {@code config.json}, the weights in
 * {@code model.safetensors} or in shards listed by {@code model.safetensors.index.json}, and the
 * optional {@code generation_config.json} and tokenizer files.
 *
 * <p>Opening reads and validates every header (and the index) but no tensor data; tensors are
 * loaded by name on demand, each memory-mapped and widened to float32 only then. Thread-safe for
 * concurrent loads.
 */
public final class HfCheckpoint implements AutoCloseable {

    public static final String CONFIG = "config.json";
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String GENERATION_CONFIG = "generation_config.json";
    /** Tokenizer files copied along with a checkpoint when present. */
    public static final List<String> TOKENIZER_FILES = List.of(
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json");

    private final Path dir;
    private final JsonNode rawConfig;
    private final HfModelConfig config;
    private final HfGenerationConfig generationConfig;
    private final List<SafetensorsReader> files;
    private final Map<String, SafetensorsReader> owner; // tensor name -> file, in file order

    private HfCheckpoint(Path dir, JsonNode rawConfig, HfModelConfig config, HfGenerationConfig generationConfig,
                         List<SafetensorsReader> files, Map<String, SafetensorsReader> owner) {
        this.dir = dir;
        this.rawConfig = rawConfig;
        this.config = config;
        this.generationConfig = generationConfig;
        this.files = files;
        this.owner = owner;
    }

    /** Opens a model directory, validating config, index and every safetensors header. */
    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir, null, "not a directory");
        Path configFile = dir.resolve(CONFIG);
        JsonNode raw = HfJson.read(configFile);
        HfModelConfig config = HfModelConfig.fromJson(raw, configFile);
        Path genFile = dir.resolve(GENERATION_CONFIG);
        HfGenerationConfig gen = Files.exists(genFile) ? HfGenerationConfig.read(genFile) : null;

        List<SafetensorsReader> readers = new ArrayList<>();
        Map<String, SafetensorsReader> owner = new LinkedHashMap<>();
        try {
            Path single = dir.resolve(SINGLE_FILE);
            Path index = dir.resolve(INDEX_FILE);
            if (Files.exists(single)) {
                // transformers prefers the single file when both exist; so do we.
                SafetensorsReader r = SafetensorsReader.open(single);
                readers.add(r);
                for (String n : r.tensors().keySet()) owner.put(n, r);
            } else if (Files.exists(index)) {
                openShards(dir, index, readers, owner);
            } else {
                throw new CheckpointException(dir, null, "no " + SINGLE_FILE + " or " + INDEX_FILE + " in the model directory");
            }
        } catch (IOException | RuntimeException e) {
            for (SafetensorsReader r : readers) r.close();
            throw e;
        }
        return new HfCheckpoint(dir, raw, config, gen, List.copyOf(readers), Collections.unmodifiableMap(owner));
    }

    private static void openShards(Path dir, Path index, List<SafetensorsReader> readers,
                                   Map<String, SafetensorsReader> owner) throws IOException {
        JsonNode root = HfJson.read(index);
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) throw new CheckpointException(index, "weight_map", "missing or not an object");
        Map<String, String> weightMap = new LinkedHashMap<>();
        Map<String, SafetensorsReader> byFile = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) throw new CheckpointException(index, e.getKey(), "weight_map value must be a file name");
            String fname = e.getValue().textValue();
            // The index is untrusted: a shard must be a plain file inside this directory.
            if (fname.isEmpty() || fname.contains("/") || fname.contains("\\") || fname.equals(".") || fname.equals("..")
                    || fname.indexOf('\0') >= 0) {
                throw new CheckpointException(index, e.getKey(), "shard file name '" + fname + "' must be a plain file name in the model directory");
            }
            weightMap.put(e.getKey(), fname);
            if (!byFile.containsKey(fname)) {
                Path shard = dir.resolve(fname);
                if (!Files.isRegularFile(shard)) {
                    throw new CheckpointException(index, e.getKey(), "shard '" + fname + "' does not exist");
                }
                SafetensorsReader r = SafetensorsReader.open(shard);
                readers.add(r);
                byFile.put(fname, r);
            }
        }
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            SafetensorsReader r = byFile.get(e.getValue());
            if (!r.contains(e.getKey())) {
                throw new CheckpointException(index, e.getKey(), "listed in weight_map for shard '" + e.getValue() + "' but not in that file");
            }
        }
        for (SafetensorsReader r : readers) {
            for (String name : r.tensors().keySet()) {
                String listed = weightMap.get(name);
                if (listed == null) {
                    throw new CheckpointException(r.file(), name, "tensor is in this shard but not in " + INDEX_FILE);
                }
                if (!r.file().getFileName().toString().equals(listed)) {
                    throw new CheckpointException(r.file(), name, "tensor also appears in this shard, but the index maps it to '" + listed + "'");
                }
                owner.put(name, r);
            }
        }
    }

    public Path dir() {
        return dir;
    }

    /** Parsed config.json. */
    public HfModelConfig config() {
        return config;
    }

    /** config.json exactly as read (keeps keys r1kit does not model, for writing back). */
    public JsonNode rawConfig() {
        return rawConfig.deepCopy();
    }

    public Optional<HfGenerationConfig> generationConfig() {
        return Optional.ofNullable(generationConfig);
    }

    /** The tokenizer.json of this directory, if present. */
    public Optional<Path> tokenizerFile() {
        Path p = dir.resolve("tokenizer.json");
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    /** Names of all tensors, shard by shard in data order. */
    public List<String> tensorNames() {
        return List.copyOf(owner.keySet());
    }

    public boolean contains(String name) {
        return owner.containsKey(name);
    }

    /** Header entry (dtype, shape, file) of a tensor. */
    public TensorInfo info(String name) throws CheckpointException {
        return reader(name).info(name);
    }

    /** Loads one tensor as float32. */
    public float[] load(String name) throws IOException {
        return reader(name).loadFloats(name);
    }

    /** Loads one tensor as float32, checking it has the shape the caller expects. */
    public float[] load(String name, int... expectedShape) throws IOException {
        TensorInfo t = info(name);
        if (!java.util.Arrays.equals(t.shape(), expectedShape)) {
            throw new CheckpointException(t.file(), name, "has shape " + java.util.Arrays.toString(t.shape())
                    + " but the model config expects " + java.util.Arrays.toString(expectedShape));
        }
        return load(name);
    }

    /** Loads every tensor (widening all of them: needs heap for the whole model in float32). */
    public Map<String, float[]> loadAll() throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String n : owner.keySet()) out.put(n, load(n));
        return out;
    }

    /** Loads every tensor as {@link NamedTensor}s, e.g. to save them again. */
    public List<NamedTensor> loadAllNamed() throws IOException {
        List<NamedTensor> out = new ArrayList<>();
        for (String n : owner.keySet()) out.add(new NamedTensor(n, info(n).shape(), load(n)));
        return out;
    }

    private SafetensorsReader reader(String name) throws CheckpointException {
        SafetensorsReader r = owner.get(name);
        if (r == null) throw new CheckpointException(dir, name, "no such tensor in the checkpoint");
        return r;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SafetensorsReader r : files) {
            try {
                r.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }
}
