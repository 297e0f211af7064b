package io.r1kit.grpo.rm;

import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.grpo.sft.SftConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of the {@code reward_model} stage (named as TRL's {@code RewardConfig} where it has the
 * option; YAML uses snake_case). A component left null takes the default in its javadoc; bad values
 * fail naming the YAML key.
 *
 * @param learningRate             peak AdamW learning rate. Default 1e-5 (fine-tuning a pretrained backbone; a tiny
 *                                 from-scratch toy model wants ~1e-3).
 * @param numTrainEpochs           passes over the train pairs when {@code max_steps} is −1. Default 1.
 * @param maxSteps                 optimizer steps; −1 = {@code num_train_epochs} passes. Default −1.
 * @param batchSize                preference pairs per optimizer step (each pair is two sequences). Default 8.
 * @param evalBatchSize            sequences per forward pass when scoring the held-out pairs. Default 32.
 * @param maxLength                tokens per (prompt + response) at most; longer inputs keep their last tokens. Default 1024.
 * @param evalFraction             share of the pairs held out for the pairwise accuracy when no eval set is given. Default 0.1.
 * @param lrScheduler              {@code constant}, {@code linear} or {@code cosine} after warm-up. Default linear.
 * @param warmupRatio              fraction of the steps spent warming up. Default 0.0.
 * @param minLrRatio               the decayed schedule ends at this fraction of the peak. Default 0.0.
 * @param weightDecay              AdamW weight decay (matrices only). Default 0.0.
 * @param maxGradNorm              global gradient-norm clip (0 = off). Default 1.0.
 * @param centerRewardsCoefficient TRL's {@code center_rewards_coefficient}: adds coef · mean((r_c + r_r)²) so scores
 *                                 centre on 0. 0 = off. Default 0.0.
 * @param seed                     seeds the head initialisation, the held-out split and the pair order. Default 42.
 * @param loggingSteps             a metrics line every this many steps. Default 10.
 * @param template                 prompt template ({@code plain}, {@code toy}, {@code r1-zero} or a {@code {column}} text);
 *                                 the scored text is {@code render(example) + assistantSeparator + response}. Default plain.
 * @param promptColumn             column of the prompt. Default prompt.
 * @param chosenColumn             column of the preferred response. Default chosen.
 * @param rejectedColumn           column of the dispreferred response. Default rejected.
 * @param addSpecialTokens         encode the prompt with the tokenizer's special tokens (BOS). Default true.
 * @param appendEos                append EOS after the response, so the head always reads the EOS position. Default true.
 */
public record RewardModelConfig(
        Double learningRate,
        Integer numTrainEpochs,
        Integer maxSteps,
        Integer batchSize,
        Integer evalBatchSize,
        Integer maxLength,
        Double evalFraction,
        SftConfig.LrScheduler lrScheduler,
        Double warmupRatio,
        Double minLrRatio,
        Double weightDecay,
        Double maxGradNorm,
        Double centerRewardsCoefficient,
        Long seed,
        Integer loggingSteps,
        String template,
        String promptColumn,
        String chosenColumn,
        String rejectedColumn,
        Boolean addSpecialTokens,
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

    private static <T> T or(T v, T def) {
        return v == null ? def : v;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
