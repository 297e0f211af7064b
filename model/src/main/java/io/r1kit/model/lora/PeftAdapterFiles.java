package io.r1kit.model.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.HfJson;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.hf.SafetensorsWriter;
import io.r1kit.model.hf.TensorInfo;
import io.r1kit.model.tensor.Parameter;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * LoRA adapters on disk in PEFT's layout: {@code adapter_config.json} (a {@code LoraConfig} as
 * {@code save_pretrained} writes it) and {@code adapter_model.safetensors} (tensors named
 * {@code base_model.model.<module>.lora_A.weight} / {@code .lora_B.weight}, float32). The directory
 * is written atomically (a temporary sibling renamed into place). Reading accepts what r1kit can
 * apply (plain LoRA on the seven projections) and names the file and key of anything else.
 */
public final class PeftAdapterFiles {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";

    private PeftAdapterFiles() {}

    /** What an adapter directory holds: the settings, the base model it was trained on (or null) and the tensors. */
    public record Adapter(LoraConfig config, String baseModel, Map<String, float[]> tensors, Map<String, int[]> shapes) {}

    /** True when {@code dir} holds adapter_config.json (a PEFT adapter directory). */
    public static boolean isAdapterDir(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    /**
     * Writes {@code adapters} into {@code dir} (replaced atomically): adapter_config.json naming
     * {@code baseModel} (may be null) and adapter_model.safetensors, plus the tokenizer files found in
     * {@code tokenizerDir} (may be null) so the directory serves as a model directory for tokenizers.
     */
    public static void save(Path dir, LoraAdapters adapters, String baseModel, Path tokenizerDir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        Files.createDirectories(parent);
        String tag = UUID.randomUUID().toString().substring(0, 8);
        Path tmp = parent.resolve("." + abs.getFileName() + ".tmp-" + tag);
        Files.createDirectory(tmp);
        try {
            writeConfig(tmp.resolve(CONFIG), adapters.config(), baseModel);
            List<NamedTensor> ts = new ArrayList<>();
            for (Parameter p : adapters.parameters()) ts.add(new NamedTensor(p.name(), p.shape(), p.data()));
            SafetensorsWriter.write(tmp.resolve(WEIGHTS), ts, DType.F32, Map.of("format", "pt"));
            fsync(tmp.resolve(WEIGHTS));
            if (tokenizerDir != null) {
                for (String f : HfCheckpoint.TOKENIZER_FILES) {
                    Path src = tokenizerDir.resolve(f);
                    if (Files.isRegularFile(src)) Files.copy(src, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException | RuntimeException e) {
            deleteRecursively(tmp);
            throw e;
        }
        Path old = parent.resolve("." + abs.getFileName() + ".old-" + tag);
        boolean existed = Files.exists(abs);
        if (existed) move(abs, old);
        try {
            move(tmp, abs);
        } catch (IOException e) {
            if (existed) move(old, abs);
            deleteRecursively(tmp);
            throw e;
        }
        if (existed) deleteRecursively(old);
    }

    private static void writeConfig(Path file, LoraConfig c, String baseModel) throws IOException {
        ObjectNode o = HfJson.WRITER.createObjectNode();
        o.putObject("alpha_pattern");
        o.putNull("auto_mapping");
        if (baseModel == null) o.putNull("base_model_name_or_path"); else o.put("base_model_name_or_path", baseModel);
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("inference_mode", true);
        o.put("init_lora_weights", true);
        o.putNull("layers_pattern");
        o.putNull("layers_to_transform");
        o.put("lora_alpha", c.loraAlpha());
        o.put("lora_dropout", c.loraDropout());
        o.putNull("modules_to_save");
        o.put("peft_type", "LORA");
        o.put("r", c.r());
        o.putObject("rank_pattern");
        o.putNull("revision");
        ArrayNode t = o.putArray("target_modules");
        c.targetModules().forEach(t::add);
        o.put("task_type", "CAUSAL_LM");
        o.put("use_dora", false);
        o.put("use_rslora", false);
        String text = HfJson.WRITER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n";
        Files.write(file, text.getBytes(StandardCharsets.UTF_8));
        fsync(file);
    }

    /** Reads an adapter directory; every setting r1kit cannot apply is refused with the file and key named. */
    public static Adapter read(Path dir) throws IOException {
        Path cfgFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfgFile)) throw new CheckpointException(dir, null, "is not a PEFT adapter directory: " + CONFIG + " is missing");
        JsonNode j = HfJson.read(cfgFile);
        String type = text(j, "peft_type");
        if (!"LORA".equalsIgnoreCase(type)) throw bad(cfgFile, "peft_type", "is " + type + "; only LORA adapters can be applied");
        requireAbsentOr(cfgFile, j, "use_dora", false);
        requireAbsentOr(cfgFile, j, "use_rslora", false);
        requireAbsentOr(cfgFile, j, "fan_in_fan_out", false);
        if (j.hasNonNull("bias") && !"none".equals(j.get("bias").asText())) throw bad(cfgFile, "bias", "is " + j.get("bias") + "; only \"none\" is supported");
        for (String k : List.of("layers_to_transform", "modules_to_save", "layers_pattern"))
            if (j.hasNonNull(k) && !(j.get(k).isArray() && j.get(k).isEmpty())) throw bad(cfgFile, k, "is " + j.get(k) + "; only null is supported");
        for (String k : List.of("rank_pattern", "alpha_pattern"))
            if (j.hasNonNull(k) && !j.get(k).isEmpty()) throw bad(cfgFile, k, "is " + j.get(k) + "; per-module ranks and alphas are not supported");
        if (!j.has("r") || !j.get("r").canConvertToInt()) throw bad(cfgFile, "r", "must be an integer");
        if (!j.has("lora_alpha") || !j.get("lora_alpha").isNumber()) throw bad(cfgFile, "lora_alpha", "must be a number");
        JsonNode tm = j.get("target_modules");
        if (tm == null || !tm.isArray())
            throw bad(cfgFile, "target_modules", "is " + tm + "; a list of projection names is needed (a regular expression is not supported)");
        List<String> targets = new ArrayList<>();
        tm.forEach(n -> targets.add(n.asText()));
        LoraConfig c;
        try {
            c = new LoraConfig(j.get("r").asInt(), j.get("lora_alpha").asDouble(), j.path("lora_dropout").asDouble(0), targets);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(cfgFile, null, e.getMessage());
        }
        String base = j.hasNonNull("base_model_name_or_path") ? j.get("base_model_name_or_path").asText() : null;
        Map<String, float[]> tensors = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Path wf = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(wf)) throw new CheckpointException(dir, null, WEIGHTS + " is missing next to " + CONFIG);
        try (SafetensorsReader r = SafetensorsReader.open(wf)) {
            for (Map.Entry<String, TensorInfo> e : r.tensors().entrySet()) {
                tensors.put(e.getKey(), r.loadFloats(e.getKey()));
                shapes.put(e.getKey(), e.getValue().shape());
            }
        }
        return new Adapter(c, base, tensors, shapes);
    }

    /**
     * Loads the tensors of adapter directory {@code dir} into {@code adapters}, whose settings must
     * match the file's (r, lora_alpha, target_modules); every adapter tensor must be present with its
     * shape, and the file may hold no other tensor.
     */
    public static void load(Path dir, LoraAdapters adapters) throws IOException {
        Adapter a = read(dir);
        LoraConfig mine = adapters.config(), theirs = a.config();
        if (mine.r() != theirs.r() || mine.loraAlpha() != theirs.loraAlpha() || !mine.targetModules().equals(theirs.targetModules()))
            throw new CheckpointException(dir.resolve(CONFIG), null, "holds r " + theirs.r() + ", lora_alpha " + theirs.loraAlpha()
                    + ", target_modules " + theirs.targetModules() + ", but the model's adapters have r " + mine.r() + ", lora_alpha "
                    + mine.loraAlpha() + ", target_modules " + mine.targetModules());
        copyInto(dir.resolve(WEIGHTS), a, adapters.parameters());
    }

    /**
     * Loads the adapter tensors of {@code dir} into {@code params} by name (a trainer resuming its
     * adapters): every parameter present with its shape, no other tensor in the file.
     */
    public static void loadParameters(Path dir, List<Parameter> params) throws IOException {
        copyInto(dir.resolve(WEIGHTS), read(dir), params);
    }

    /** Copies the adapter's tensors into {@code params} by name (all present, same shapes, nothing else in the file). */
    static void copyInto(Path file, Adapter a, List<Parameter> params) throws CheckpointException {
        Set<String> expected = new java.util.HashSet<>();
        for (Parameter p : params) {
            expected.add(p.name());
            float[] v = a.tensors().get(p.name());
            if (v == null) throw new CheckpointException(file, p.name(), "adapter tensor is missing");
            if (!Arrays.equals(a.shapes().get(p.name()), p.shape()))
                throw new CheckpointException(file, p.name(), "has shape " + Arrays.toString(a.shapes().get(p.name()))
                        + ", expected " + Arrays.toString(p.shape()));
            p.copyFrom(v);
        }
        for (String n : a.tensors().keySet())
            if (!expected.contains(n)) throw new CheckpointException(file, n, "is not an adapter of this model (no such projection, or another layout)");
    }

    private static String text(JsonNode j, String key) {
        return j.hasNonNull(key) ? j.get(key).asText() : null;
    }

    private static void requireAbsentOr(Path file, JsonNode j, String key, boolean value) throws CheckpointException {
        if (j.hasNonNull(key) && j.get(key).asBoolean() != value) throw bad(file, key, "is " + j.get(key) + "; only " + value + " is supported");
    }

    private static CheckpointException bad(Path file, String key, String what) {
        return new CheckpointException(file, null, "key '" + key + "' " + what);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    private static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
