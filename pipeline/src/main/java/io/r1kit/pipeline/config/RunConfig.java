package io.r1kit.pipeline.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * One run, as written in its YAML file. Stage options are bound per stage type afterwards
 * ({@link StageSpec}), so that each stage's keys are checked against its own trainer's options.
 *
 * @param name      run name; the run directory defaults to {@code runs/<name>}
 * @param seed      base seed of the run (default 0); stages derive theirs from it unless set
 * @param device    {@code auto} (default), {@code cpu}, {@code cuda}, {@code cuda:N}, or {@code emulated} (the device
 *                  path on the CPU kernels, for checking it without a GPU)
 * @param precision {@code fp32} (default) or {@code bf16}: mixed precision of the models on the device
 *                  ({@code CausalLM.precision}); bf16 needs a device ({@code cuda}, {@code cuda:N}, {@code emulated});
 *                  {@code fp8} / {@code fp8_tensor}: DeepSeek-V3's FP8 GEMMs emulated on the CPU (device: cpu), see docs/fp8.md
 * @param runDir    run directory (default {@code runs/<name>}, relative to the working directory)
 * @param model     the starting model of the first stage that needs one
 * @param tokenizer tokenizer when the model does not bring one (scratch models)
 * @param template  prompt template: {@code toy}, {@code r1-zero}, {@code plain} or a text with {column}
 * @param thinkPrefill start the assistant turn with "&lt;think&gt;\n" (default false)
 * @param data      named data sets: generated ({@code generate:}) or read from files
 * @param rewards   reward functions shared by the stages (a stage may override)
 * @param plugins   directories of reward plugin jars (default: plugins/ beside the config)
 * @param classpath extra jars or class folders for {@code class:} rewards
 * @param stages    the stages, run in order
 */
public record RunConfig(
        String name,
        Long seed,
        String device,
        String precision,
        String runDir,
        ModelSpec model,
        TokenizerSpec tokenizer,
        String template,
        Boolean thinkPrefill,
        Map<String, ObjectNode> data,
        List<JsonNode> rewards,
        List<String> plugins,
        List<String> classpath,
        List<ObjectNode> stages) {

    public RunConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("'name' is required (the run's name)");
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("'name' may use letters, digits, '.', '_' and '-' only (it names the run directory): " + name);
        }
        if (seed == null) seed = 0L;
        if (device == null) device = "auto";
        if (!device.matches("auto|cpu|cuda(:\\d+)?|emulated")) {
            throw new IllegalArgumentException("'device' is '" + device + "'; allowed: auto, cpu, cuda, cuda:N, emulated");
        }
        if (precision == null) precision = "fp32";
        if (!precision.matches("fp32|bf16|fp8|fp8_tensor")) {
            throw new IllegalArgumentException("'precision' is '" + precision + "'; allowed: fp32, bf16, fp8, fp8_tensor");
        }
        if (precision.startsWith("fp8") && !device.equals("cpu")) {
            throw new IllegalArgumentException("'precision: " + precision + "' is the CPU emulation of FP8 training and needs device: cpu, not '"
                    + device + "'");
        }
        if (precision.equals("bf16") && !device.matches("cuda(:\\d+)?|emulated")) {
            throw new IllegalArgumentException("'precision: bf16' needs the models on a device (device: cuda, cuda:N or emulated), not '"
                    + device + "'");
        }
        if (runDir == null) runDir = "runs/" + name;
        if (template == null) template = "toy";
        if (thinkPrefill == null) thinkPrefill = false;
        data = data == null ? Map.of() : Map.copyOf(data);
        rewards = rewards == null ? List.of() : List.copyOf(rewards);
        plugins = plugins == null ? List.of() : List.copyOf(plugins);
        classpath = classpath == null ? List.of() : List.copyOf(classpath);
        if (stages == null || stages.isEmpty()) throw new IllegalArgumentException("'stages' is required: a list of at least one stage");
        stages = List.copyOf(stages);
    }

    /**
     * Where the model comes from: exactly one of a Hugging Face directory ({@code path}), the final
     * checkpoint of an earlier stage ({@code from_stage}), or a fresh model ({@code scratch}).
     * In YAML a plain string is a path.
     */
    public record ModelSpec(String path, String fromStage, ScratchModel scratch) {
        public ModelSpec {
            int n = (path != null ? 1 : 0) + (fromStage != null ? 1 : 0) + (scratch != null ? 1 : 0);
            if (n != 1) throw new IllegalArgumentException("'model' needs exactly one of: path, from_stage, scratch");
        }

        @com.fasterxml.jackson.annotation.JsonCreator(mode = com.fasterxml.jackson.annotation.JsonCreator.Mode.DELEGATING)
        public static ModelSpec ofPath(String path) {
            return new ModelSpec(path, null, null);
        }
    }

    /**
     * A model created from scratch (random init). Sizes of a Llama-style decoder.
     *
     * @param family            llama (default), qwen2 or qwen3
     * @param hiddenSize        width (default 128)
     * @param intermediateSize  SwiGLU width (default 3 × hidden, rounded to 32)
     * @param numLayers         decoder blocks (default 4)
     * @param numHeads          attention heads (default 4)
     * @param numKvHeads        key/value heads (default = heads)
     * @param maxPositions      context length (default 256)
     * @param ropeTheta         RoPE base (default 10000)
     * @param tieEmbeddings     share input and output embeddings (default true)
     * @param initStd           init std of matrices (default 0.02)
     */
    public record ScratchModel(String family, Integer hiddenSize, Integer intermediateSize, Integer numLayers,
                               Integer numHeads, Integer numKvHeads, Integer maxPositions, Double ropeTheta,
                               Boolean tieEmbeddings, Double initStd) {
        public ScratchModel {
            if (family == null) family = "llama";
            if (!family.matches("llama|qwen2|qwen3")) {
                throw new IllegalArgumentException("scratch.family is '" + family + "'; allowed: llama, qwen2, qwen3");
            }
            if (hiddenSize == null) hiddenSize = 128;
            if (intermediateSize == null) intermediateSize = ((hiddenSize * 3 + 31) / 32) * 32;
            if (numLayers == null) numLayers = 4;
            if (numHeads == null) numHeads = 4;
            if (numKvHeads == null) numKvHeads = numHeads;
            if (maxPositions == null) maxPositions = 256;
            if (ropeTheta == null) ropeTheta = 10000.0;
            if (tieEmbeddings == null) tieEmbeddings = true;
            if (initStd == null) initStd = 0.02;
            if (hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("scratch.hidden_size " + hiddenSize + " must be divisible by num_heads " + numHeads);
            }
            if (numHeads % numKvHeads != 0) {
                throw new IllegalArgumentException("scratch.num_heads " + numHeads + " must be a multiple of num_kv_heads " + numKvHeads);
            }
        }
    }

    /**
     * Tokenizer: a directory or tokenizer.json ({@code path}), or the built-in character tokenizer
     * ({@code char}) built from the named data sets' text (with the reasoning tags as single tokens).
     */
    public record TokenizerSpec(String path, CharSpec charTokenizer) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public TokenizerSpec(@com.fasterxml.jackson.annotation.JsonProperty("path") String path,
                             @com.fasterxml.jackson.annotation.JsonProperty("char") CharSpec charTokenizer) {
            if ((path == null) == (charTokenizer == null)) {
                throw new IllegalArgumentException("'tokenizer' needs exactly one of: path, char");
            }
            this.path = path;
            this.charTokenizer = charTokenizer;
        }
    }

    /**
     * @param fromData data set names whose text columns make the alphabet (default: all)
     * @param extra    extra characters to include
     */
    public record CharSpec(List<String> fromData, String extra) {
        public CharSpec {
            fromData = fromData == null ? List.of() : List.copyOf(fromData);
            if (extra == null) extra = "";
        }
    }
}
