package io.r1kit.pipeline.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.run.Pipeline;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code r1kit plan}: the memory each stage of a prepared run will need on its device, from the
 * models' shapes and the stages' options, and the check that refuses a run that cannot fit.
 *
 * <p>What is counted per stage type (fp32 host arrays; see {@link MemoryModel} for each formula):
 * <ul>
 * <li>pretrain, sft, cold_start, rejection_sampling, distill, reward_model: weights, gradients,
 *     AdamW moments, the activations of one forward pass of {@code batch_size × max_seq_length}
 *     tokens (or {@code max_tokens_per_forward}) with the stage's {@code gradient_checkpointing},
 *     and the backward workspace; rejection_sampling adds its generation's KV cache.</li>
 * <li>grpo: the same for one micro-batch of completions (the step's prompts_per_step ×
 *     num_generations rows split into num_mini_batches × gradient_accumulation_steps, each
 *     max_prompt_length + max_completion_length long, or max_tokens_per_micro_batch), plus the
 *     rollout's KV cache and decode buffers (up to 64 rows decoded together), and the reference
 *     model's weights when beta &gt; 0.</li>
 * <li>ppo: as grpo, plus the value model (a policy copy with its own gradients and moments) and the
 *     reference model when kl_coef &gt; 0.</li>
 * <li>eval: weights, KV cache and decode buffers.</li>
 * </ul>
 * A scratch model with the built-in character tokenizer is planned with a vocabulary of
 * {@value #CHAR_VOCAB_BOUND} (the real alphabet is known only once its data is built, and is
 * smaller); the embedding is a small part of such models.
 */
public final class MemoryPlanner {
    private MemoryPlanner() {}

    static final int CHAR_VOCAB_BOUND = 256;
    /** Rows the Generator decodes together at most (its default maxBatchRows). */
    static final int DECODE_ROWS = 64;

    /** Plans of every stage of p, in order. */
    public static List<StagePlan> plan(Pipeline p) {
        RunContext ctx = p.context();
        ModelConfig runModel = ctx.config().model() == null ? null : modelOf(ctx, ctx.config().model(), "/model");
        Map<String, ModelConfig> byStage = new HashMap<>();
        ModelConfig current = runModel;
        List<StagePlan> out = new ArrayList<>();
        for (StageSpec s : p.stages()) {
            ModelConfig m = current;
            if (s.model() != null) {
                m = s.model().fromStage() != null ? byStage.getOrDefault(s.model().fromStage(), current)
                        : modelOf(ctx, s.model(), s.pointer() + "/model");
            }
            if (m == null) {
                throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": stage '" + s.name()
                        + "' has no model to plan for (no 'model:' in the run or the stage)");
            }
            byStage.put(s.name(), m);
            out.add(planStage(s, m, ctx.config().precision()));
            if (s.type() != StageSpec.Type.EVAL && s.type() != StageSpec.Type.REWARD_MODEL) current = m;
        }
        return out;
    }

    /**
     * The plan of one stage. {@code precision} is the run's: {@code bf16} adds the bf16 weight
     * copies the projections read (fp32 masters stay); activations are planned in fp32 (bf16 saves
     * the projections' inputs in bf16, so the estimate is an upper bound there); {@code fp8} /
     * {@code fp8_tensor} quantize operands per GEMM from the fp32 weights and are planned as fp32.
     */
    static StagePlan planStage(StageSpec s, ModelConfig m, String precision) {
        JsonNode o = s.options();
        LoraConfig lora = s.lora() == null ? null : s.lora().toConfig();
        List<MemoryItem> items = new ArrayList<>(), alt = new ArrayList<>();
        long w = MemoryModel.weightBytes(m);
        String smaller = "a smaller model, or more memory for the JVM (-Xmx in R1KIT_JAVA_OPTS)";
        items.add(new MemoryItem("weights (fp32)", w, smaller));
        if ("bf16".equals(precision)) items.add(new MemoryItem("bf16 weight copies (precision: bf16)", w / 2, "precision: fp32"));
        switch (s.type()) {
            case EVAL -> rollout(items, m, o, 512, 256);
            case GRPO, PPO -> {
                boolean ppo = s.type() == StageSpec.Type.PPO;
                int prompts = o.path("prompts_per_step").asInt(8), gens = o.path("num_generations").asInt(ppo ? 1 : 8);
                int pl = o.path("max_prompt_length").asInt(512), cl = o.path("max_completion_length").asInt(256);
                int len = Math.min(pl + cl, m.maxPositions());
                int parts = Math.max(1, o.path("num_mini_batches").asInt(1)) * Math.max(1, o.path("gradient_accumulation_steps").asInt(1));
                long rows = Math.max(1, ceilDiv((long) prompts * gens, parts));
                long budget = o.path("max_tokens_per_micro_batch").asLong(0);
                long tokens = budget > 0 ? Math.min(budget, rows * len) : rows * len;
                String what = budget > 0 ? "micro-batch of max_tokens_per_micro_batch " + budget
                        : String.format(Locale.ROOT, "micro-batch %d × %d (rows at full length: an upper bound)", rows, len);
                training(items, alt, m, lora, tokens, false, false, what,
                        "gradient_accumulation_steps or num_mini_batches (fewer rows per micro-batch), or max_tokens_per_micro_batch");
                rollout(items, m, o, 512, 256);
                double kl = ppo ? o.path("kl_coef").asDouble(0.05) : o.path("beta").asDouble(0.0);
                if (lora != null) {
                    items.add(new MemoryItem("base values of the LoRA-targeted weights, copied while rollouts decode merged",
                            MemoryModel.loraMergeCopyBytes(m, lora), "fewer lora.target_modules"));
                } else if (kl > 0) items.add(new MemoryItem("reference model (" + (ppo ? "kl_coef" : "beta") + " > 0)", w,
                        (ppo ? "kl_coef" : "beta") + ": 0 (no reference model)"));
                if (ppo) {   // policy_copy or separate: planned at the policy's size
                    items.add(new MemoryItem("value model (weights, gradients, AdamW moments; sized as the policy)", 2 * w + MemoryModel.adamBytes(m),
                            "value_model: separate, with a smaller value model"));
                }
            }
            default -> {
                int batch = o.path("batch_size").asInt(8), seq = Math.min(o.path("max_seq_length").asInt(1024), m.maxPositions());
                long budget = o.path("max_tokens_per_forward").asLong(0);
                long tokens = budget > 0 ? budget : (long) batch * seq;
                boolean ckpt = o.path("gradient_checkpointing").asBoolean(false);
                String what = budget > 0 ? "forward of max_tokens_per_forward " + budget : String.format(Locale.ROOT, "micro-batch %d × %d", batch, seq);
                training(items, alt, m, lora, tokens, ckpt, true, what, ckpt ? "batch_size or max_seq_length (or max_tokens_per_forward)"
                        : "gradient_checkpointing: true, or a smaller batch_size / max_tokens_per_forward");
                if (s.type() == StageSpec.Type.REJECTION_SAMPLING) rollout(items, m, o, 512, 256);
            }
        }
        return new StagePlan(s.name(), s.type().yamlName(), describe(m), List.copyOf(items), List.copyOf(alt));
    }

    /** {@code ckptOption}: whether the stage type has a gradient_checkpointing option (sft-like stages do, grpo / ppo not). */
    /** {@code lora}: the stage's LoRA settings (gradients and moments of the adapters only), or null. */
    private static void training(List<MemoryItem> items, List<MemoryItem> alt, ModelConfig m, LoraConfig lora, long tokens, boolean ckpt,
                                 boolean ckptOption, String what, String shrinkActivations) {
        if (lora != null) {
            long ap = MemoryModel.loraParameters(m, lora);
            String fewer = "a smaller lora.r or fewer lora.target_modules";
            items.add(new MemoryItem(String.format(Locale.ROOT, "LoRA adapters (%d parameters, fp32; the base is frozen)", ap), 4 * ap, fewer));
            items.add(new MemoryItem("gradients of the adapters (fp32)", 4 * ap, fewer));
            items.add(new MemoryItem("AdamW moments of the adapters (2 × fp32)", 8 * ap, fewer));
            long perLayer = MemoryModel.loraFloatsPerToken(m, lora);
            items.add(new MemoryItem("adapter-branch activations" + (ckpt ? " (one recomputed layer)" : ""),
                    4L * tokens * perLayer * (ckpt ? 1 : m.numLayers()), shrinkActivations));
        } else {
            items.add(new MemoryItem("gradients (fp32)", MemoryModel.weightBytes(m), "a smaller model"));
            items.add(new MemoryItem("AdamW moments (2 × fp32)", MemoryModel.adamBytes(m),
                    "a smaller model (adam_moments: bf16 keeps fp32 arrays on the CPU)"));
        }
        items.add(new MemoryItem("activations, " + what + (ckpt ? ", gradient checkpointing" : ""),
                MemoryModel.activationBytes(m, tokens, ckpt), shrinkActivations));
        items.add(new MemoryItem("backward workspace (lm head chunk" + (ckpt ? ", one recomputed layer" : "") + ")",
                MemoryModel.backwardWorkspaceBytes(m, tokens, ckpt), shrinkActivations));
        alt.add(new MemoryItem("activations + workspace " + (ckpt ? "without" : "with") + " gradient checkpointing"
                        + (ckptOption ? "" : ", which this stage type has no option for"),
                MemoryModel.activationBytes(m, tokens, !ckpt) + MemoryModel.backwardWorkspaceBytes(m, tokens, !ckpt),
                "gradient_checkpointing: " + !ckpt));
    }

    private static void rollout(List<MemoryItem> items, ModelConfig m, JsonNode o, int promptDefault, int completionDefault) {
        int pl = o.path("max_prompt_length").asInt(promptDefault), cl = o.path("max_completion_length").asInt(completionDefault);
        long len = Math.min(pl + cl, m.maxPositions());
        items.add(new MemoryItem(String.format(Locale.ROOT, "KV cache (%d rows × %d positions)", DECODE_ROWS, len),
                MemoryModel.kvCacheBytes(m, DECODE_ROWS, len), "max_completion_length or max_prompt_length"));
        items.add(new MemoryItem("decode buffers (" + DECODE_ROWS + " rows of logits and activations)",
                MemoryModel.decodeBufferBytes(m, DECODE_ROWS), "a smaller vocabulary"));
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The shape of the model a spec names (config.json of a path, or a scratch model's sizes). */
    static ModelConfig modelOf(RunContext ctx, RunConfig.ModelSpec spec, String pointer) {
        if (spec.scratch() != null) {
            RunConfig.ScratchModel sm = spec.scratch();
            int vocab = scratchVocab(ctx);
            ModelConfig mc = switch (sm.family()) {
                case "qwen2" -> ModelConfig.qwen2(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
                case "qwen3" -> ModelConfig.qwen3(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
                case "deepseek_v3" -> ModelConfig.deepseekV3(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(),
                        DeepseekV3Params.smallDefaults(sm.hiddenSize(), sm.numHeads(), sm.intermediateSize()));
                default -> ModelConfig.llama(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
            };
            return mc.withTieEmbeddings(sm.tieEmbeddings()).withRope(sm.ropeTheta(), mc.ropeScaling(), sm.maxPositions());
        }
        if (spec.path() == null) throw new ConfigException(ctx.loaded().locate(pointer) + ": the run's model cannot come from a stage");
        Path file = ctx.resolve(spec.path()).resolve("config.json");
        try {
            return ModelConfig.fromHf(HfModelConfig.read(file), file);
        } catch (IOException e) {
            throw new ConfigException(ctx.loaded().locate(pointer) + ": cannot read the model's shape from " + file + ": " + e.getMessage(), e);
        }
    }

    /** A scratch model's vocabulary: the tokenizer directory's, or the bound for the char tokenizer. */
    private static int scratchVocab(RunContext ctx) {
        RunConfig.TokenizerSpec t = ctx.config().tokenizer();
        if (t != null && t.path() != null) {
            Path p = ctx.resolve(t.path());
            Path json = Files.isDirectory(p) ? p.resolve("tokenizer.json") : p;
            try {
                JsonNode root = new ObjectMapper().readTree(json.toFile());
                return Math.max(1, root.path("model").path("vocab").size() + root.path("added_tokens").size());
            } catch (IOException e) {
                throw new ConfigException(ctx.loaded().locate("/tokenizer") + ": cannot read " + json + " for its vocabulary size: " + e.getMessage(), e);
            }
        }
        return CHAR_VOCAB_BOUND;
    }

    static String describe(ModelConfig c) {
        return String.format(Locale.ROOT, "%s, %,d parameters (hidden %d, %d layers, %d/%d heads, FFN %d, vocab %d%s)",
                c.family().modelType(), c.parameterCount(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                c.intermediateSize(), c.vocabSize(), c.tieEmbeddings() ? ", tied" : "");
    }
}
