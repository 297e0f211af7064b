package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
 *
 * <p>FP8 checkpoints (DeepSeek-V3's layout, {@link Fp8CheckpointLayout}): an F8_E4M3/F8_E5M2
 * tensor {@code W} with a {@code W_scale_inv} beside it is dequantised on {@link #load} (each
 * element times its block's scale); {@link #loadFp8} gives the codes and scales as stored. Such a
 * scale tensor is not listed by {@link #tensorNames}. The pairing is validated at open: scale
 * dtype, its shape against {@code quantization_config.weight_block_size} (or a single per-tensor
 * scale), and an FP8 weight without scales when config.json declares quant_method fp8.
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
    private final Fp8CheckpointLayout.Quantization quantization; // null when config.json declares none
    private final Map<String, int[]> fp8Blocks;          // FP8 weight name -> {blockRows, blockCols} of its scales

    private HfCheckpoint(Path dir, JsonNode rawConfig, HfModelConfig config, HfGenerationConfig generationConfig,
                         List<SafetensorsReader> files, Map<String, SafetensorsReader> owner,
                         Fp8CheckpointLayout.Quantization quantization, Map<String, int[]> fp8Blocks) {
        this.dir = dir;
        this.rawConfig = rawConfig;
        this.config = config;
        this.generationConfig = generationConfig;
        this.files = files;
        this.owner = owner;
        this.quantization = quantization;
        this.fp8Blocks = fp8Blocks;
    }

    /** Opens a model directory, validating config, index and every safetensors header. */
    public static HfCheckpoint open(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new CheckpointException(dir, null, "not a directory");
        Path configFile = dir.resolve(CONFIG);
        JsonNode raw = HfJson.read(configFile);
        HfModelConfig config = HfModelConfig.fromJson(raw, configFile);
        Path genFile = dir.resolve(GENERATION_CONFIG);
        HfGenerationConfig gen = Files.exists(genFile) ? HfGenerationConfig.read(genFile) : null;
        Fp8CheckpointLayout.Quantization quant = Fp8CheckpointLayout.parse(raw, configFile);

        List<SafetensorsReader> readers = new ArrayList<>();
        Map<String, SafetensorsReader> owner = new LinkedHashMap<>();
        Map<String, int[]> fp8;
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
            fp8 = pairFp8Scales(owner, quant, configFile);
        } catch (IOException | RuntimeException e) {
            for (SafetensorsReader r : readers) r.close();
            throw e;
        }
        return new HfCheckpoint(dir, raw, config, gen, List.copyOf(readers), Collections.unmodifiableMap(owner), quant, fp8);
    }

    /** FP8 weights with their scale tensors, validated: weight name -> block shape of the scales. */
    private static Map<String, int[]> pairFp8Scales(Map<String, SafetensorsReader> owner, Fp8CheckpointLayout.Quantization quant,
                                                    Path configFile) throws IOException {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, SafetensorsReader> e : owner.entrySet()) {
            String name = e.getKey();
            TensorInfo w = e.getValue().info(name);
            if (name.endsWith(Fp8CheckpointLayout.SCALE_SUFFIX)) {
                String weight = name.substring(0, name.length() - Fp8CheckpointLayout.SCALE_SUFFIX.length());
                SafetensorsReader wr = owner.get(weight);
                if (wr == null || Fp8Format.of(wr.info(weight).dtype()) == null) {
                    throw new CheckpointException(w.file(), name, "scale tensor without an F8_E4M3/F8_E5M2 tensor '" + weight + "' to scale");
                }
                continue;
            }
            if (Fp8Format.of(w.dtype()) == null) continue;
            String scaleName = name + Fp8CheckpointLayout.SCALE_SUFFIX;
            SafetensorsReader sr = owner.get(scaleName);
            if (sr == null) {
                if (quant != null) {
                    throw new CheckpointException(w.file(), name, w.dtype() + " weight has no '" + scaleName
                            + "' although " + configFile.getFileName() + " declares quant_method fp8");
                }
                continue; // plain FP8 values, loaded unscaled
            }
            if (quant != null && Fp8Format.of(w.dtype()) != quant.format()) {
                throw new CheckpointException(w.file(), name, "is " + w.dtype() + " but quantization_config.fmt is "
                        + quant.format().name().toLowerCase(Locale.ROOT));
            }
            TensorInfo s = sr.info(scaleName);
            if (s.dtype() != DType.F32 && s.dtype() != DType.BF16 && s.dtype() != DType.F16) {
                throw new CheckpointException(s.file(), scaleName, "scale dtype is " + s.dtype() + "; expected F32, BF16 or F16");
            }
            int[] ws = w.shape(), ss = s.shape();
            if (ws.length != 2) {
                throw new CheckpointException(w.file(), name, "block-scaled FP8 weight must be 2-D, got shape " + Arrays.toString(ws));
            }
            boolean blocked = quant != null && quant.blockRows() > 0;
            if (s.numel() == 1 && ss.length <= 2) {
                // One scale: a weight within a single weight_block_size block keeps the declared block
                // (so every tensor of the checkpoint reports the same block shape), else a per-tensor scale.
                boolean oneBlock = blocked && ws[0] <= quant.blockRows() && ws[1] <= quant.blockCols();
                out.put(name, oneBlock ? new int[] {quant.blockRows(), quant.blockCols()}
                        : new int[] {Math.max(ws[0], 1), Math.max(ws[1], 1)});
                continue;
            }
            if (!blocked) {
                throw new CheckpointException(configFile, "quantization_config.weight_block_size", "missing, but '" + scaleName
                        + "' has " + s.numel() + " block scales (shape " + Arrays.toString(ss) + ")");
            }
            int br = quant.blockRows(), bc = quant.blockCols();
            int[] expected = {(ws[0] + br - 1) / br, (ws[1] + bc - 1) / bc};
            if (!Arrays.equals(ss, expected)) {
                throw new CheckpointException(s.file(), scaleName, "has shape " + Arrays.toString(ss) + " but weight "
                        + Arrays.toString(ws) + " in " + br + "x" + bc + " blocks needs " + Arrays.toString(expected));
            }
            out.put(name, new int[] {br, bc});
        }
        return Collections.unmodifiableMap(out);
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

    /** Names of all tensors, shard by shard in data order; the scale tensors of FP8 weights are not listed. */
    public List<String> tensorNames() {
        List<String> out = new ArrayList<>();
        for (String n : owner.keySet()) {
            if (n.endsWith(Fp8CheckpointLayout.SCALE_SUFFIX)
                    && fp8Blocks.containsKey(n.substring(0, n.length() - Fp8CheckpointLayout.SCALE_SUFFIX.length()))) continue;
            out.add(n);
        }
        return out;
    }

    /** The FP8 quantisation config.json declares, if any. */
    public Optional<Fp8CheckpointLayout.Quantization> quantization() {
        return Optional.ofNullable(quantization);
    }

    /** True when {@code name} is stored as FP8 codes with a {@code _scale_inv} beside it. */
    public boolean isFp8Scaled(String name) {
        return fp8Blocks.containsKey(name);
    }

    /**
     * The FP8 codes and scales of a scaled FP8 weight, exactly as stored (scales widened to F32).
     * Scales must be finite and non-negative.
     */
    public Fp8Blocks loadFp8(String name) throws IOException {
        int[] block = fp8Blocks.get(name);
        if (block == null) throw new CheckpointException(dir, name, "not an FP8 tensor with a " + Fp8CheckpointLayout.SCALE_SUFFIX + " tensor");
        TensorInfo w = info(name);
        String scaleName = name + Fp8CheckpointLayout.SCALE_SUFFIX;
        float[] scales = reader(scaleName).loadFloats(scaleName);
        for (int i = 0; i < scales.length; i++) {
            if (!(scales[i] >= 0f) || Float.isInfinite(scales[i])) {
                throw new CheckpointException(info(scaleName).file(), scaleName, "scale " + i + " is " + scales[i]
                        + "; dequantising scales must be finite and >= 0");
            }
        }
        int[] ws = w.shape();
        return new Fp8Blocks(Fp8Format.of(w.dtype()), ws[0], ws[1], block[0], block[1], reader(name).loadBytes(name), scales);
    }

    public boolean contains(String name) {
        return owner.containsKey(name);
    }

    /** Header entry (dtype, shape, file) of a tensor. */
    public TensorInfo info(String name) throws CheckpointException {
        return reader(name).info(name);
    }

    /** Loads one tensor as float32 (an FP8 weight with scales dequantised). */
    public float[] load(String name) throws IOException {
        if (fp8Blocks.containsKey(name)) return loadFp8(name).dequantize();
        return reader(name).loadFloats(name);
    }

    /** Loads one tensor as float32, checking it has the shape the caller expects. */
    public float[] load(String name, int... expectedShape) throws IOException {
        TensorInfo t = info(name);
        if (!Arrays.equals(t.shape(), expectedShape)) {
            throw new CheckpointException(t.file(), name, "has shape " + Arrays.toString(t.shape())
                    + " but the model config expects " + Arrays.toString(expectedShape));
        }
        return load(name);
    }

    /** Loads every tensor of {@link #tensorNames} (widening all of them: needs heap for the whole model in float32). */
    public Map<String, float[]> loadAll() throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String n : tensorNames()) out.put(n, load(n));
        return out;
    }

    /** Loads every tensor of {@link #tensorNames} as {@link NamedTensor}s, e.g. to save them again. */
    public List<NamedTensor> loadAllNamed() throws IOException {
        List<NamedTensor> out = new ArrayList<>();
        for (String n : tensorNames()) out.add(new NamedTensor(n, info(n).shape(), load(n)));
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
