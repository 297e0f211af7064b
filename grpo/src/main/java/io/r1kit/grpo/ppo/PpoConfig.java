package io.r1kit.grpo.ppo;

import io.r1kit.grpo.config.ConfigRecords;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.r1kit.grpo.GrpoConfig;
import io.r1kit.grpo.GrpoConfig.LrScheduler;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The PPO baseline's switches (TRL {@code PPOConfig} names in snake_case where they exist); null
 * components take the default in their javadoc.
 *
 * @param promptsPerStep            prompts per step. Default 8.
 * @param numGenerations            completions per prompt (PPO needs no group; &gt; 1 matches GRPO's sample budget). Default 1.
 * @param maxPromptLength           prompt tokens kept (left truncation). Default 512.
 * @param maxCompletionLength       tokens generated at most. Default 256.
 * @param temperature               rollout temperature. Default 1.0.
 * @param topP                      rollout top-p. Default 1.0.
 * @param topK                      rollout top-k (0 = off). Default 0.
 * @param numPpoEpochs              passes over each batch of rollouts. Default 4.
 * @param numMiniBatches            optimizer updates per pass. Default 1.
 * @param gradientAccumulationSteps micro-batches per mini-batch. Default 1.
 * @param cliprange                 policy ratio clip ε. Default 0.2.
 * @param cliprangeValue            value clip ε_v around the rollout-time values. Default 0.2.
 * @param vfCoef                    weight of the value loss. Default 0.1.
 * @param gamma                     discount γ. Default 1.0.
 * @param lam                       GAE λ. Default 0.95.
 * @param klCoef                    per-token KL penalty −kl_coef·(logp_old − logp_ref) in the reward (0 = no reference model). Default 0.05.
 * @param whitenAdvantages          normalise advantages to mean 0, std 1 over the batch's tokens. Default true.
 * @param valueModel                {@code policy_copy}: the value backbone is a copy of the initial policy; {@code separate}: a model passed to the builder. Default policy_copy.
 * @param learningRate              policy AdamW learning rate. Default 1e-6.
 * @param valueLearningRate         value model learning rate; unset = learning_rate. Default unset.
 * @param lrScheduler               constant, linear or cosine after warm-up (both models). Default linear.
 * @param warmupRatio               warm-up fraction of the updates. Default 0.0.
 * @param weightDecay               AdamW weight decay (matrices only). Default 0.0.
 * @param maxGradNorm               global-norm clip per model (0 = off). Default 1.0.
 * @param maxSteps                  steps (−1 = num_train_epochs passes over the prompts). Default −1.
 * @param numTrainEpochs            passes over the prompts when max_steps is −1. Default 1.
 * @param seed                      run seed. Default 42.
 * @param saveSteps                 checkpoint interval (0 = only at the end). Default 100.
 * @param saveTotalLimit            checkpoints kept. Default 2.
 * @param logCompletionsSteps       samples/step-N.jsonl interval (0 = never). Default 10.
 * @param maxNonFiniteSteps         consecutive NaN/Inf steps before the run stops. Default 3.
 */
public record PpoConfig(Integer promptsPerStep, Integer numGenerations, Integer maxPromptLength, Integer maxCompletionLength,
                        Double temperature, Double topP, Integer topK, Integer numPpoEpochs, Integer numMiniBatches,
                        Integer gradientAccumulationSteps, Double cliprange, Double cliprangeValue, Double vfCoef, Double gamma,
                        Double lam, Double klCoef, Boolean whitenAdvantages, ValueModelKind valueModel, Double learningRate,
                        Double valueLearningRate, LrScheduler lrScheduler, Double warmupRatio, Double weightDecay, Double maxGradNorm,
                        Integer maxSteps, Integer numTrainEpochs, Long seed, Integer saveSteps, Integer saveTotalLimit,
                        Integer logCompletionsSteps, Integer maxNonFiniteSteps) {

    /** Where the value model's backbone comes from. */
    public enum ValueModelKind {
        POLICY_COPY, SEPARATE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static ValueModelKind parse(String s) {
            for (ValueModelKind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
            throw new IllegalArgumentException("value_model: '" + s + "' is not one of [policy_copy, separate]");
        }
    }

    public PpoConfig {
        promptsPerStep = or(promptsPerStep, 8);
        numGenerations = or(numGenerations, 1);
        maxPromptLength = or(maxPromptLength, 512);
        maxCompletionLength = or(maxCompletionLength, 256);
        temperature = or(temperature, 1.0);
        topP = or(topP, 1.0);
        topK = or(topK, 0);
        numPpoEpochs = or(numPpoEpochs, 4);
        numMiniBatches = or(numMiniBatches, 1);
        gradientAccumulationSteps = or(gradientAccumulationSteps, 1);
        cliprange = or(cliprange, 0.2);
        cliprangeValue = or(cliprangeValue, 0.2);
        vfCoef = or(vfCoef, 0.1);
        gamma = or(gamma, 1.0);
        lam = or(lam, 0.95);
        klCoef = or(klCoef, 0.05);
        whitenAdvantages = or(whitenAdvantages, true);
        valueModel = or(valueModel, ValueModelKind.POLICY_COPY);
        learningRate = or(learningRate, 1e-6);
        valueLearningRate = or(valueLearningRate, learningRate);
        lrScheduler = or(lrScheduler, LrScheduler.LINEAR);
        warmupRatio = or(warmupRatio, 0.0);
        weightDecay = or(weightDecay, 0.0);
        maxGradNorm = or(maxGradNorm, 1.0);
        maxSteps = or(maxSteps, -1);
        numTrainEpochs = or(numTrainEpochs, 1);
        seed = or(seed, 42L);
        saveSteps = or(saveSteps, 100);
        saveTotalLimit = or(saveTotalLimit, 2);
        logCompletionsSteps = or(logCompletionsSteps, 10);
        maxNonFiniteSteps = or(maxNonFiniteSteps, 3);
        req(promptsPerStep >= 1, "prompts_per_step must be ≥ 1");
        req(numGenerations >= 1, "num_generations must be ≥ 1");
        req(maxPromptLength >= 1 && maxCompletionLength >= 1, "max_prompt_length and max_completion_length must be ≥ 1");
        req(temperature > 0, "temperature must be > 0");
        req(topP > 0 && topP <= 1, "top_p must be in (0, 1]");
        req(topK >= 0, "top_k must be ≥ 0");
        req(numPpoEpochs >= 1, "num_ppo_epochs must be ≥ 1");
        req(numMiniBatches >= 1 && numMiniBatches <= promptsPerStep * numGenerations,
                "num_mini_batches must be in [1, prompts_per_step × num_generations]");
        req(gradientAccumulationSteps >= 1, "gradient_accumulation_steps must be ≥ 1");
        req(cliprange >= 0 && cliprange < 1, "cliprange must be in [0, 1)");
        req(cliprangeValue > 0, "cliprange_value must be > 0");
        req(vfCoef >= 0, "vf_coef must be ≥ 0");
        req(gamma >= 0 && gamma <= 1, "gamma must be in [0, 1]");
        req(lam >= 0 && lam <= 1, "lam must be in [0, 1]");
        req(klCoef >= 0, "kl_coef must be ≥ 0");
        req(learningRate >= 0 && valueLearningRate >= 0, "learning rates must be ≥ 0");
        req(warmupRatio >= 0 && warmupRatio <= 1, "warmup_ratio must be in [0, 1]");
        req(weightDecay >= 0 && maxGradNorm >= 0, "weight_decay and max_grad_norm must be ≥ 0");
        req(maxSteps == -1 || maxSteps >= 1, "max_steps must be ≥ 1 or −1");
        req(numTrainEpochs >= 1, "num_train_epochs must be ≥ 1");
        req(saveSteps >= 0 && saveTotalLimit >= 1 && logCompletionsSteps >= 0 && maxNonFiniteSteps >= 1,
                "save_steps ≥ 0, save_total_limit ≥ 1, log_completions_steps ≥ 0, max_non_finite_steps ≥ 1");
    }

    /** Binds snake_case keys; absent keys take defaults. */
    public static PpoConfig of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, PpoConfig.class, "ppo config");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return ConfigRecords.toMap(this);
    }

    private static <T> T or(T v, T d) {
        return v == null ? d : v;
    }

    private static void req(boolean ok, String msg) {
        if (!ok) throw new IllegalArgumentException(msg);
    }
}
