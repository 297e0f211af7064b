package io.r1kit.grpo.rm;

import static io.r1kit.grpo.config.ConfigRecords.or;
import static io.r1kit.grpo.config.ConfigRecords.require;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.grpo.sft.SftConfig;
import java.util.Map;

/**
 * Options of the {@code reward_model} stage (named as TRL's {@code RewardConfig} where it has the
 * option; YAML uses snake_case). A component left null takes the default set in its constructor ({@link Doc} documents each option); bad values
 * fail naming the YAML key.
 */
public record RewardModelConfig(
        @Doc("peak AdamW learning rate (for fine-tuning a pretrained backbone; a tiny from-scratch toy model wants ~1e-3..3e-3).")
        Double learningRate,
        @Doc("passes over the train pairs when `max_steps` is −1.")
        Integer numTrainEpochs,
        @Doc("optimizer steps; −1 = `num_train_epochs` passes.")
        Integer maxSteps,
        @Doc("preference pairs per optimizer step (each pair is two sequences).")
        Integer batchSize,
        @Doc("sequences per forward pass when scoring the held-out pairs.")
        Integer evalBatchSize,
        @Doc("tokens per (prompt + response) at most; longer inputs keep their last tokens.")
        Integer maxLength,
        @Doc("share of the pairs held out for the pairwise accuracy when no eval set is given.")
        Double evalFraction,
        @Doc("`constant`, `linear` or `cosine` after warm-up.")
        SftConfig.LrScheduler lrScheduler,
        @Doc("fraction of the steps spent warming up.")
        Double warmupRatio,
        @Doc("the decayed schedule ends at this fraction of the peak.")
        Double minLrRatio,
        @Doc("AdamW weight decay (matrices only).")
        Double weightDecay,
        @Doc("global gradient-norm clip (0 = off).")
        Double maxGradNorm,
        @Doc("TRL's `center_rewards_coefficient`: adds coef · mean((r_c + r_r)²) so scores centre on 0. 0 = off.")
        Double centerRewardsCoefficient,
        @Doc("seeds the head initialisation, the held-out split and the pair order.")
        Long seed,
        @Doc("a metrics line every this many steps.")
        Integer loggingSteps,
        @Doc("prompt template (`plain`, `toy`, `r1-zero` or a `{column}` text); the scored text is `render(example) + assistantSeparator + response`.")
        String template,
        @Doc("column of the prompt.")
        String promptColumn,
        @Doc("column of the preferred response.")
        String chosenColumn,
        @Doc("column of the dispreferred response.")
        String rejectedColumn,
        @Doc("encode the prompt with the tokenizer's special tokens (BOS).")
        Boolean addSpecialTokens,
        @Doc("append EOS after the response, so the head always reads the EOS position.")
        Boolean appendEos) {

    public RewardModelConfig {
        learningRate = or(learningRate, 1e-5);
        numTrainEpochs = or(numTrainEpochs, 1);
        maxSteps = or(maxSteps, -1);
        batchSize = or(batchSize, 8);
        evalBatchSize = or(evalBatchSize, 32);
        maxLength = or(maxLength, 1024);
        evalFraction = or(evalFraction, 0.1);
        lrScheduler = or(lrScheduler, SftConfig.LrScheduler.LINEAR);
        warmupRatio = or(warmupRatio, 0.0);
        minLrRatio = or(minLrRatio, 0.0);
        weightDecay = or(weightDecay, 0.0);
        maxGradNorm = or(maxGradNorm, 1.0);
        centerRewardsCoefficient = or(centerRewardsCoefficient, 0.0);
        seed = or(seed, 42L);
        loggingSteps = or(loggingSteps, 10);
        template = or(template, "plain");
        promptColumn = or(promptColumn, "prompt");
        chosenColumn = or(chosenColumn, "chosen");
        rejectedColumn = or(rejectedColumn, "rejected");
        addSpecialTokens = or(addSpecialTokens, true);
        appendEos = or(appendEos, true);
        require(learningRate >= 0 && Double.isFinite(learningRate), "learning_rate must be ≥ 0, got " + learningRate);
        require(numTrainEpochs >= 1, "num_train_epochs must be ≥ 1, got " + numTrainEpochs);
        require(maxSteps == -1 || maxSteps >= 1, "max_steps must be ≥ 1, or −1 for num_train_epochs, got " + maxSteps);
        require(batchSize >= 1, "batch_size must be ≥ 1, got " + batchSize);
        require(evalBatchSize >= 1, "eval_batch_size must be ≥ 1, got " + evalBatchSize);
        require(maxLength >= 1, "max_length must be ≥ 1, got " + maxLength);
        require(evalFraction >= 0 && evalFraction < 1, "eval_fraction must be in [0, 1), got " + evalFraction);
        require(warmupRatio >= 0 && warmupRatio <= 1, "warmup_ratio must be in [0, 1], got " + warmupRatio);
        require(minLrRatio >= 0 && minLrRatio <= 1, "min_lr_ratio must be in [0, 1], got " + minLrRatio);
        require(weightDecay >= 0, "weight_decay must be ≥ 0, got " + weightDecay);
        require(maxGradNorm >= 0, "max_grad_norm must be ≥ 0 (0 = off), got " + maxGradNorm);
        require(centerRewardsCoefficient >= 0, "center_rewards_coefficient must be ≥ 0, got " + centerRewardsCoefficient);
        require(loggingSteps >= 1, "logging_steps must be ≥ 1, got " + loggingSteps);
    }

    public static RewardModelConfig defaults() {
        return of(Map.of());
    }

    /** Binds snake_case keys; unknown keys fail, absent keys take defaults. */
    public static RewardModelConfig of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, RewardModelConfig.class, "reward_model config");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return ConfigRecords.toMap(this);
    }

    public RewardModel.Encoding encoding() {
        return new RewardModel.Encoding(addSpecialTokens, appendEos, maxLength);
    }
}
