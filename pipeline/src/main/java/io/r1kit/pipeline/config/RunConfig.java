package io.r1kit.pipeline.config;

import io.r1kit.grpo.config.Doc;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;

/**
 * One run, as written in its YAML file. Stage options are bound per stage type afterwards
 * ({@link StageSpec}), so that each stage's keys are checked against its own trainer's options.
 */
public record RunConfig(
        @Doc(value = "run name (letters, digits, `._-`).", unset = "required")
        String name,
        @Doc("base seed of the run; stages use it unless they set their own `seed`.")
        Long seed,
        @Doc("`auto`, `cpu`, `cuda`, `cuda:N`, or `emulated` (the device path on the CPU kernels, for checking it without a GPU); `R1KIT_DEVICE` sets the default. See [gpu.md](gpu.md#selecting-the-device).")
        String device,
        @Doc("`fp32`, `bf16`, `fp8` or `fp8_tensor`. `bf16`: mixed precision of the models on the device; needs `device: cuda`, `cuda:N` or `emulated` (see [gpu.md](gpu.md#mixed-precision-what-exists-and-what-does-not)). `fp8`: the exact CPU emulation of DeepSeek-V3's FP8 training (E4M3 GEMM operands with 1×128 / 128×128 scales, FP32 accumulation per 128-wide chunk); `fp8_tensor`: the same with per-tensor scales; both need `device: cpu` (see [fp8.md](fp8.md)).")
        String precision,
        @Doc(value = "run directory, relative to the working directory.", unset = "`runs/<name>`")
        String runDir,
        @Doc(value = "the starting model of the first stage that needs one: a Hugging Face directory (a string or `{path: DIR}`), `{from_stage: NAME}`, or `{scratch: {...}}` (below).", unset = "none: the first model stage needs one")
        ModelSpec model,
        @Doc(value = "tokenizer when the model does not bring one (scratch models): `{path: DIR}` or `{char: {...}}` (below).", unset = "the model's own")
        TokenizerSpec tokenizer,
        @Doc("prompt template: `toy`, `r1-zero`, `plain` or a text with `{column}` placeholders (see [data.md](data.md#prompt-templates)).")
        String template,
        @Doc("start the assistant turn with `<think>\\n`.")
        Boolean thinkPrefill,
        @Doc("named data sets: `{generate: {task, n, seed, params: {...}}}`, a dataset spec (`path`, `loader`, `columns`, …; see [data.md](data.md)) or a `mix:` of other sets (see [r1-stages.md](r1-stages.md)).")
        Map<String, ObjectNode> data,
        @Doc("reward list shared by the stages; a stage may override it (see [rewards.md](rewards.md)).")
        List<JsonNode> rewards,
        @Doc(value = "directories of reward plugin jars (`class:` rewards).", unset = "`plugins/` beside the config, `./plugins` and `<r1kit home>/plugins`")
        List<String> plugins,
        @Doc("extra jars or class folders for `class:` rewards")
        List<String> classpath,
        @Doc(value = "the stages, run in order (the keys of each below).", unset = "required")
        List<ObjectNode> stages,
        @Doc("also write TensorBoard event files of `metrics.jsonl` to `tensorboard/<stage>/` (scalars per metric, readable by TensorBoard); see [dashboard.md](dashboard.md).")
        Boolean tensorboard,
        @Doc(value = "run the sampling and scoring of `rejection_sampling`, `cold_start` and `distill` stages and of evaluations on a cluster: `{engine: spark, master: URL, conf: {...}}` (see [below](#cluster) and [cluster.md](cluster.md)).", unset = "none: everything in this JVM")
        ClusterConfig cluster) {

    public RunConfig {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("'name' is required (the run's name)");
        if (!name.matches("[A-Za-z0-9._-]+") || name.matches("\\.+")) {
            throw new IllegalArgumentException("'name' may use letters, digits, '.', '_' and '-' only, and not dots alone (it names the run directory): " + name);
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
        if (tensorboard == null) tensorboard = false;
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
     */
    public record ScratchModel(
            @Doc("`llama`, `qwen2`, `qwen3` or `deepseek_v3` (MLA + DeepSeekMoE + one MTP module with the small defaults of `DeepseekV3Params.smallDefaults`; `num_kv_heads` must equal `num_heads`); see [deepseek-v3.md](deepseek-v3.md).")
            String family,
            @Doc("width.")
            Integer hiddenSize,
            @Doc(value = "SwiGLU width.", unset = "3 × `hidden_size`, rounded up to a multiple of 32")
            Integer intermediateSize,
            @Doc("decoder blocks.")
            Integer numLayers,
            @Doc("attention heads.")
            Integer numHeads,
            @Doc(value = "key/value heads (grouped-query attention when fewer than `num_heads`).", unset = "= `num_heads`")
            Integer numKvHeads,
            @Doc("context length.")
            Integer maxPositions,
            @Doc("RoPE base.")
            Double ropeTheta,
            @Doc("share input and output embeddings.")
            Boolean tieEmbeddings,
            @Doc("init std of matrices.")
            Double initStd) {
        public ScratchModel {
            if (family == null) family = "llama";
            if (!family.matches("llama|qwen2|qwen3|deepseek_v3")) {
                throw new IllegalArgumentException("scratch.family is '" + family + "'; allowed: llama, qwen2, qwen3, deepseek_v3");
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
            if (family.equals("deepseek_v3") && !numKvHeads.equals(numHeads)) {
                throw new IllegalArgumentException("scratch.num_kv_heads must equal num_heads for deepseek_v3 (MLA), got " + numKvHeads);
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

    public record CharSpec(
            @Doc(value = "data set names whose text columns make the alphabet.", unset = "every data set")
            List<String> fromData,
            @Doc("extra characters to include.")
            String extra) {
        public CharSpec {
            fromData = fromData == null ? List.of() : List.copyOf(fromData);
            if (extra == null) extra = "";
        }
    }
}
