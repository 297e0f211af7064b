package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.fp8.Fp8Blocks;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Saves a model directory in the Hugging Face layout: {@code config.json}, weights as
 * {@code model.safetensors} or as {@code model-0000i-of-0000n.safetensors} shards with a
 * {@code model.safetensors.index.json} when they exceed {@link #maxShardBytes}, the tokenizer
 * files (copied), and {@code generation_config.json} if given.
 *
 * <p>The save is atomic: everything is written into a hidden temporary sibling directory and
 * fsync'd, then renamed into place. An existing directory is renamed away first, the new one is
 * renamed in, and only then is the old one deleted, so a crash leaves either the old or the new
 * checkpoint at the target path (plus at most a stray hidden sibling), never a half-written one.
 *
 * <pre>
 *   new HfCheckpointWriter().config(cfg).dtype(DType.BF16).tokenizerFrom(srcDir).save(outDir, tensors);
 * </pre>
 */
public final class HfCheckpointWriter {

    /** transformers' default max_shard_size is "5GB" (decimal). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    private DType dtype = DType.F32;

    /**
     * True for the tensors stored in F32 whatever the writer's dtype: DeepSeek-V3's router
     * correction biases ({@code *.e_score_correction_bias}), which transformers keeps in float32
     * ({@code _keep_in_fp32_modules_strict}) and DeepSeek releases in F32 beside BF16 weights; they
     * are added to sigmoid scores in (0, 1), where BF16's 8 bits would move expert choices.
     */
    public static boolean keptInF32(String name) {
        return name.endsWith(".e_score_correction_bias");
    }
    private long maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
    private JsonNode configJson;
    private JsonNode generationConfigJson;
    private Path tokenizerDir;
    private final Map<String, byte[]> extraFiles = new LinkedHashMap<>();

    /**
     * Storage dtype: F32 (exact) or BF16 (round to nearest even), except the {@link #keptInF32}
     * tensors. Also sets config.json's torch_dtype.
     */
    public HfCheckpointWriter dtype(DType d) {
        if (d != DType.F32 && d != DType.BF16) throw new IllegalArgumentException("save dtype must be F32 or BF16, not " + d);
        this.dtype = d;
        return this;
    }

    /** Shard size limit in bytes of tensor data; a single tensor larger than this gets a shard of its own. */
    public HfCheckpointWriter maxShardBytes(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("maxShardBytes must be > 0");
        this.maxShardBytes = bytes;
        return this;
    }

    /** config.json from a parsed config (a model created from scratch). */
    public HfCheckpointWriter config(HfModelConfig config) {
        this.configJson = config.toJson();
        return this;
    }

    /** config.json given as JSON (e.g. {@link HfCheckpoint#rawConfig()}, so unknown keys survive). */
    public HfCheckpointWriter config(JsonNode rawConfig) {
        this.configJson = rawConfig.deepCopy();
        return this;
    }

    public HfCheckpointWriter generationConfig(JsonNode json) {
        this.generationConfigJson = json == null ? null : json.deepCopy();
        return this;
    }

    /** Copy the tokenizer files ({@link HfCheckpoint#TOKENIZER_FILES}) that exist in {@code dir}. */
    public HfCheckpointWriter tokenizerFrom(Path dir) {
        this.tokenizerDir = dir;
        return this;
    }

    /** Any other file to place in the directory (e.g. a tokenizer built in memory). */
    public HfCheckpointWriter extraFile(String name, byte[] content) {
        if (name.contains("/") || name.contains("\\")) throw new IllegalArgumentException("plain file name expected: " + name);
        extraFiles.put(name, content.clone());
        return this;
    }

    /** Config, generation config and tokenizer taken from an opened checkpoint. */
    public HfCheckpointWriter copyFrom(HfCheckpoint ckpt) {
        config(ckpt.rawConfig());
        ckpt.generationConfig().ifPresent(g -> generationConfig(g.raw()));
        tokenizerFrom(ckpt.dir());
        return this;
    }

    /** Writes the checkpoint to {@code target}, replacing whatever is there atomically. */
    public void save(Path target, Collection<NamedTensor> tensors) throws IOException {
        save(target, tensors, Map.of());
    }

    /**
     * Writes a checkpoint holding FP8 block-quantised tensors besides the float ones, in the layout
     * DeepSeek-V3 releases and transformers' fine-grained FP8 loader read: each {@code name} as
     * F8_E4M3 (or F8_E5M2) codes, {@code name + "_scale_inv"} as F32 {@code [ceil(rows/br),
     * ceil(cols/bc)]}, and config.json's {@code quantization_config} = {@code {"quant_method": "fp8",
     * "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [br, bc]}}. All FP8 tensors
     * must share one format and block shape; the float tensors keep this writer's dtype.
     */
    public void save(Path target, Collection<NamedTensor> tensors, Map<String, Fp8Blocks> fp8Tensors) throws IOException {
        if (configJson == null) throw new IllegalStateException("config.json not set: call config(...) before save");
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        String base = abs.getFileName().toString();
        String tag = UUID.randomUUID().toString().substring(0, 8);
        Path tmp = parent.resolve("." + base + ".tmp-" + tag);
        Files.createDirectory(tmp);
        try {
            writeContents(tmp, tensors, fp8Tensors);
            fsyncDir(tmp);
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
        if (Files.exists(abs, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Path old = parent.resolve("." + base + ".old-" + tag);
            move(abs, old);
            try {
                move(tmp, abs);
            } catch (IOException e) {
                move(old, abs); // put the previous checkpoint back
                deleteRecursively(tmp);
                throw e;
            }
            fsyncDir(parent);
            deleteRecursively(old);
        } else {
            try {
                move(tmp, abs);
            } catch (IOException e) {
                deleteRecursively(tmp);
                throw e;
            }
            fsyncDir(parent);
        }
    }

    private void writeContents(Path dir, Collection<NamedTensor> tensors, Map<String, Fp8Blocks> fp8) throws IOException {
        // config.json, with torch_dtype matching what we store.
        ObjectNode cfg = configJson.isObject() ? (ObjectNode) configJson.deepCopy() : null;
        if (cfg == null) throw new IllegalArgumentException("config must be a JSON object");
        if (cfg.has("dtype") && !cfg.has("torch_dtype")) cfg.put("dtype", dtype.torchDtypeName());
        else cfg.put("torch_dtype", dtype.torchDtypeName());
        cfg.remove("quantization_config");
        if (!fp8.isEmpty()) cfg.set("quantization_config", Fp8CheckpointLayout.quantizationConfig(fp8.values()));
        writeJson(dir.resolve(HfCheckpoint.CONFIG), cfg);
        if (generationConfigJson != null) writeJson(dir.resolve(HfCheckpoint.GENERATION_CONFIG), generationConfigJson);

        if (tokenizerDir != null) {
            for (String f : HfCheckpoint.TOKENIZER_FILES) {
                Path src = tokenizerDir.resolve(f);
                if (Files.isRegularFile(src)) {
                    Path dst = dir.resolve(f);
                    Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
                    fsyncFile(dst);
                }
            }
        }
        for (Map.Entry<String, byte[]> e : extraFiles.entrySet()) {
            Path dst = dir.resolve(e.getKey());
            Files.write(dst, e.getValue());
            fsyncFile(dst);
        }
        writeWeights(dir, tensors, fp8);
    }

    private void writeWeights(Path dir, Collection<NamedTensor> tensors, Map<String, Fp8Blocks> fp8) throws IOException {
        Map<String, String> meta = Map.of("format", "pt");
        // Units that stay in one shard: a float tensor, or FP8 codes with their scales.
        List<List<StoredTensor>> units = new ArrayList<>();
        for (NamedTensor t : tensors) units.add(List.of(StoredTensor.ofFloats(t, keptInF32(t.name()) ? DType.F32 : dtype)));
        for (Map.Entry<String, Fp8Blocks> e : fp8.entrySet()) units.add(Fp8CheckpointLayout.stored(e.getKey(), e.getValue()));
        // Greedy sharding in the caller's (model) order, like transformers' shard_checkpoint.
        List<List<StoredTensor>> shards = new ArrayList<>();
        List<StoredTensor> current = new ArrayList<>();
        long currentBytes = 0, total = 0;
        for (List<StoredTensor> u : units) {
            long b = 0;
            for (StoredTensor t : u) b += t.byteSize();
            if (!current.isEmpty() && currentBytes + b > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.addAll(u);
            currentBytes += b;
            total += b;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);
        if (shards.size() == 1) {
            SafetensorsWriter.writeMixed(dir.resolve(HfCheckpoint.SINGLE_FILE), shards.get(0), meta);
            return;
        }
        int n = shards.size();
        Map<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String fname = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
            SafetensorsWriter.writeMixed(dir.resolve(fname), shards.get(i), meta);
            for (StoredTensor t : shards.get(i)) {
                if (weightMap.put(t.name(), fname) != null) {
                    throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
                }
            }
        }
        ObjectNode index = HfJson.WRITER.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode wm = index.putObject("weight_map");
        weightMap.forEach(wm::put);
        writeJson(dir.resolve(HfCheckpoint.INDEX_FILE), index);
    }

    private static void writeJson(Path file, JsonNode node) throws IOException {
        String text = HfJson.WRITER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node) + "\n";
        Files.write(file, text.getBytes(StandardCharsets.UTF_8));
        fsyncFile(file);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void fsyncFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes renames/creations inside {@code dir} durable. Not every OS allows opening a directory; that is best effort. */
    static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Windows and some file systems cannot fsync a directory; the file contents are already synced.
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) throw exc;
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
