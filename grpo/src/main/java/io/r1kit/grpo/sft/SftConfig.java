package io.r1kit.grpo.sft;

import static io.r1kit.grpo.config.ConfigRecords.or;
import static io.r1kit.grpo.config.ConfigRecords.require;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Every switch of the SFT / pretraining trainer, named as TRL's {@code SFTConfig} (and the HF
 * {@code TrainingArguments} it extends) names it; YAML uses the snake_case form
 * ({@code maxSeqLength} is {@code max_seq_length}). A component left null takes the default in its
 * compact constructor, which also rejects bad values naming the YAML key; each option is documented by
 * its {@link Doc} annotation.
 *
 * <p>Batch vocabulary: a <em>sequence</em> is one example, or with {@code packing} a bin of whole
 * examples holding at most {@code max_seq_length} tokens (best-fit decreasing, as TRL's {@code bfd}
 * strategy). One optimizer <em>step</em> takes {@code batch_size × gradient_accumulation_steps}
 * sequences, and its loss is the mean over every loss token of the step (so accumulation is exactly
 * one big batch, as transformers ≥ 4.46 normalises by {@code num_items_in_batch}). How the step is
 * executed (rows per forward pass) is set by {@code max_tokens_per_forward} and does not change the
 * result beyond float rounding.
 */
public record SftConfig(
        @Doc(value = "peak AdamW learning rate; from-scratch pretraining wants ~1e-3.", source = "TRL")
        Double learningRate,
        @Doc("passes over the train set when `max_steps` is −1.")
        Integer numTrainEpochs,
        @Doc("optimizer steps to run; −1 = `num_train_epochs` passes.")
        Integer maxSteps,
        @Doc("sequences per micro-batch (TRL `per_device_train_batch_size`).")
        Integer batchSize,
        @Doc("micro-batches per optimizer step.")
        Integer gradientAccumulationSteps,
        @Doc("tokens per example at most (longer ones are cut on the right); the packing bin size.")
        Integer maxSeqLength,
        @Doc("pack several whole examples into each sequence of `max_seq_length` tokens.")
        Boolean packing,
        @Doc("padded tokens (rows × longest row) per forward pass; 0 = `batch_size × max_seq_length`.")
        Integer maxTokensPerForward,
        @Doc("`constant`, `linear` or `cosine` decay (to `min_lr_ratio · lr`) after warm-up.")
        LrScheduler lrScheduler,
        @Doc("fraction of the steps spent warming up linearly.")
        Double warmupRatio,
        @Doc("warm-up steps; overrides `warmup_ratio` when > 0.")
        Integer warmupSteps,
        @Doc("the decayed schedule ends at this fraction of the peak lr.")
        Double minLrRatio,
        @Doc("AdamW decoupled weight decay (matrices only; norms and biases never decay).")
        Double weightDecay,
        @Doc("global gradient-norm clip (0 = off).")
        Double maxGradNorm,
        @Doc("AdamW β1.")
        Double adamBeta1,
        @Doc("AdamW β2.")
        Double adamBeta2,
        @Doc("AdamW ε.")
        Double adamEpsilon,
        @Doc("eval loss every this many steps (0 = only at the end); needs an eval set.")
        Integer evalSteps,
        @Doc("when no eval set is given, hold out this fraction of the train set (after a seeded shuffle).")
        Double evalFraction,
        @Doc("checkpoint every this many steps (0 = only at the end).")
        Integer saveSteps,
        @Doc("checkpoints kept (oldest deleted first).")
        Integer saveTotalLimit,
        @Doc("write a metrics line every this many steps.")
        Integer loggingSteps,
        @Doc("seeds the example order of every epoch (shuffle with `seed + epoch`).")
        Long seed,
        @Doc("train only on completion tokens of prompt/completion and `messages` examples (prompt tokens get no loss); `text` examples always train on every token.")
        Boolean completionOnlyLoss,
        @Doc("prompt template: `plain`, `toy`, `r1-zero` or a text with `{column}` placeholders (a chat template is passed to the trainer as an object instead).")
        String template,
        @Doc("column holding the prompt (rendered through `template`).")
        String promptColumn,
        @Doc("column holding the target completion.")
        String completionColumn,
        @Doc("column of raw text documents (TRL `dataset_text_field`); used when an example has neither messages nor a completion, and always when `completion_only_loss` is false and the example has it.")
        String textColumn,
        @Doc("tokenize prompts / documents with the tokenizer's special tokens (a BOS for Llama-style and char tokenizers, nothing for Qwen).")
        Boolean addSpecialTokens,
        @Doc("append the tokenizer's EOS after each completion / document, so the model learns to stop.")
        Boolean appendEos,
        @Doc("recompute each block in backward instead of keeping its activations.")
        Boolean gradientCheckpointing,
        @Doc("consecutive steps with a NaN/Inf loss or gradient (skipped, no update) before the run stops.")
        Integer maxNonFiniteSteps,
        @Doc(value = "DeepSeekMoE models: after each step every routed expert's correction bias moves by −γ·sign(load − mean load) (auxiliary-loss-free balancing); 0 = off.", source = "DeepSeek-V3 §2.1.2")
        Double biasUpdateSpeed,
        @Doc(value = "DeepSeek-V3 models with MTP modules: λ of the multi-token-prediction loss, added as λ/D · Σ_d (MTP depth d's loss); 0 = off.", source = "DeepSeek-V3 §2.2")
        Double mtpLossWeight,
        @Doc("AdamW moments stored in `fp32` or `bf16` (V3 keeps them in BF16; master weights stay FP32).")
        String adamMoments) {

    /** {@code lr_scheduler}: shape of the learning rate after the linear warm-up. */
    public enum LrScheduler {
        CONSTANT, LINEAR, COSINE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static LrScheduler parse(String s) {
            for (LrScheduler e : values()) if (e.name().equalsIgnoreCase(s.replace('-', '_'))) return e;
            throw new IllegalArgumentException("lr_scheduler: '" + s + "' is not one of "
                    + Arrays.stream(values()).map(LrScheduler::yamlName).toList());
        }
    }

    public SftConfig {
        learningRate = or(learningRate, 2e-5);
        numTrainEpochs = or(numTrainEpochs, 3);
        maxSteps = or(maxSteps, -1);
        batchSize = or(batchSize, 8);
        gradientAccumulationSteps = or(gradientAccumulationSteps, 1);
        maxSeqLength = or(maxSeqLength, 1024);
        packing = or(packing, false);
        maxTokensPerForward = or(maxTokensPerForward, 0);
        lrScheduler = or(lrScheduler, LrScheduler.LINEAR);
        warmupRatio = or(warmupRatio, 0.0);
        warmupSteps = or(warmupSteps, 0);
        minLrRatio = or(minLrRatio, 0.0);
        weightDecay = or(weightDecay, 0.0);
        maxGradNorm = or(maxGradNorm, 1.0);
        adamBeta1 = or(adamBeta1, 0.9);
        adamBeta2 = or(adamBeta2, 0.999);
        adamEpsilon = or(adamEpsilon, 1e-8);
        evalSteps = or(evalSteps, 0);
        evalFraction = or(evalFraction, 0.0);
        saveSteps = or(saveSteps, 500);
        saveTotalLimit = or(saveTotalLimit, 2);
        loggingSteps = or(loggingSteps, 10);
        seed = or(seed, 42L);
        completionOnlyLoss = or(completionOnlyLoss, true);
        template = or(template, "plain");
        promptColumn = or(promptColumn, "prompt");
        completionColumn = or(completionColumn, "completion");
        textColumn = or(textColumn, "text");
        addSpecialTokens = or(addSpecialTokens, true);
        appendEos = or(appendEos, true);
        gradientCheckpointing = or(gradientCheckpointing, false);
        maxNonFiniteSteps = or(maxNonFiniteSteps, 3);
        biasUpdateSpeed = or(biasUpdateSpeed, 0.001);
        mtpLossWeight = or(mtpLossWeight, 0.3);
        adamMoments = or(adamMoments, "fp32");

        require(learningRate >= 0 && Double.isFinite(learningRate), "learning_rate must be ≥ 0, got " + learningRate);
        require(numTrainEpochs >= 1, "num_train_epochs must be ≥ 1, got " + numTrainEpochs);
        require(maxSteps == -1 || maxSteps >= 1, "max_steps must be ≥ 1, or −1 for num_train_epochs, got " + maxSteps);
        require(batchSize >= 1, "batch_size must be ≥ 1, got " + batchSize);
        require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps must be ≥ 1, got " + gradientAccumulationSteps);
        require(maxSeqLength >= 2, "max_seq_length must be ≥ 2 (one input and one target), got " + maxSeqLength);
        require(maxTokensPerForward >= 0, "max_tokens_per_forward must be ≥ 0 (0 = batch_size × max_seq_length), got " + maxTokensPerForward);
        require(maxTokensPerForward == 0 || maxTokensPerForward >= maxSeqLength,
                "max_tokens_per_forward (" + maxTokensPerForward + ") must be ≥ max_seq_length (" + maxSeqLength + "): one row must fit");
        require(warmupRatio >= 0 && warmupRatio <= 1, "warmup_ratio must be in [0, 1], got " + warmupRatio);
        require(warmupSteps >= 0, "warmup_steps must be ≥ 0, got " + warmupSteps);
        require(minLrRatio >= 0 && minLrRatio <= 1, "min_lr_ratio must be in [0, 1], got " + minLrRatio);
        require(weightDecay >= 0, "weight_decay must be ≥ 0, got " + weightDecay);
        require(maxGradNorm >= 0, "max_grad_norm must be ≥ 0 (0 = off), got " + maxGradNorm);
        require(adamBeta1 >= 0 && adamBeta1 < 1, "adam_beta1 must be in [0, 1), got " + adamBeta1);
        require(adamBeta2 >= 0 && adamBeta2 < 1, "adam_beta2 must be in [0, 1), got " + adamBeta2);
        require(adamEpsilon >= 0, "adam_epsilon must be ≥ 0, got " + adamEpsilon);
        require(evalSteps >= 0, "eval_steps must be ≥ 0 (0 = only at the end), got " + evalSteps);
        require(evalFraction >= 0 && evalFraction < 1, "eval_fraction must be in [0, 1), got " + evalFraction);
        require(saveSteps >= 0, "save_steps must be ≥ 0 (0 = only at the end), got " + saveSteps);
        require(saveTotalLimit >= 1, "save_total_limit must be ≥ 1, got " + saveTotalLimit);
        require(loggingSteps >= 1, "logging_steps must be ≥ 1, got " + loggingSteps);
        require(!template.isBlank(), "template must not be empty");
        require(maxNonFiniteSteps >= 1, "max_non_finite_steps must be ≥ 1, got " + maxNonFiniteSteps);
        require(biasUpdateSpeed >= 0 && Double.isFinite(biasUpdateSpeed), "bias_update_speed must be ≥ 0, got " + biasUpdateSpeed);
        require(mtpLossWeight >= 0 && Double.isFinite(mtpLossWeight), "mtp_loss_weight must be ≥ 0, got " + mtpLossWeight);
        require(adamMoments.equals("fp32") || adamMoments.equals("bf16"), "adam_moments must be fp32 or bf16, got '" + adamMoments + "'");
    }

    /** Every default. */
    public static SftConfig defaults() {
        return of(Map.of());
    }

    /**
     * Defaults for pretraining a model from scratch on raw text: loss on every token, packing on,
     * lr 1e-3 with cosine decay to 10% after 5% warm-up, weight decay 0.1 (the usual GPT recipe),
     * one epoch. Override anything with {@link #with}.
     */
    public static SftConfig pretraining() {
        return of(Map.of("completion_only_loss", false, "packing", true, "learning_rate", 1e-3, "lr_scheduler", "cosine",
                "warmup_ratio", 0.05, "min_lr_ratio", 0.1, "weight_decay", 0.1, "num_train_epochs", 1));
    }


    /** Binds snake_case keys ({@code Map.of("max_seq_length", 256, "packing", true)}); absent keys take defaults. */
    public static SftConfig of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, SftConfig.class, "sft config");
    }

    /** This config with some keys replaced (snake_case). */
    public SftConfig with(Map<String, ?> snakeCaseOverrides) {
        return ConfigRecords.with(this, snakeCaseOverrides, "sft config");
    }

    /** Every option by its snake_case name, defaults filled in (written beside runs and into trainer_state.json). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return ConfigRecords.toMap(this);
    }

    /** Padded tokens per forward pass. */
    public int forwardTokenBudget() {
        return maxTokensPerForward > 0 ? maxTokensPerForward : batchSize * maxSeqLength;
    }

    /** Sequences per optimizer step. */
    public int sequencesPerStep() {
        return batchSize * gradientAccumulationSteps;
    }
}
