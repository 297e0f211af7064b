package io.r1kit.grpo.ppo;

import static io.r1kit.grpo.config.ConfigRecords.or;
import static io.r1kit.grpo.config.ConfigRecords.require;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.r1kit.grpo.GrpoConfig.LrScheduler;
import java.util.Locale;
import java.util.Map;

/**
 * The PPO baseline's switches (TRL {@code PPOConfig} names in snake_case where they exist); null
 * components take the default set in the compact constructor; each option is documented by its {@link Doc}.
 */
public record PpoConfig(
        @Doc("prompts per step.")
        Integer promptsPerStep,
        @Doc("completions per prompt (PPO needs no group; > 1 matches GRPO's sample budget).")
        Integer numGenerations,
        @Doc("prompt tokens kept (left truncation).")
        Integer maxPromptLength,
        @Doc("tokens generated at most.")
        Integer maxCompletionLength,
        @Doc("rollout temperature.")
        Double temperature,
        @Doc("rollout top-p.")
        Double topP,
        @Doc("rollout top-k (0 = off).")
        Integer topK,
        @Doc("passes over each batch of rollouts.")
        Integer numPpoEpochs,
        @Doc("optimizer updates per pass.")
        Integer numMiniBatches,
        @Doc("micro-batches per mini-batch.")
        Integer gradientAccumulationSteps,
        @Doc("policy ratio clip ε.")
        Double cliprange,
        @Doc("value clip ε_v around the rollout-time values.")
        Double cliprangeValue,
        @Doc("weight of the value loss.")
        Double vfCoef,
        @Doc("discount γ.")
        Double gamma,
        @Doc("GAE λ.")
        Double lam,
        @Doc("per-token KL penalty −kl_coef·(logp_old − logp_ref) in the reward (0 = no reference model).")
        Double klCoef,
        @Doc("normalise advantages to mean 0, std 1 over the batch's tokens.")
        Boolean whitenAdvantages,
        @Doc("`policy_copy`: the value backbone is a copy of the initial policy; `separate`: a model passed to the builder.")
        ValueModelKind valueModel,
        @Doc("policy AdamW learning rate.")
        Double learningRate,
        @Doc(value = "value model learning rate.", unset = "= `learning_rate`")
        Double valueLearningRate,
        @Doc("`constant`, `linear` or `cosine` after warm-up (both models).")
        LrScheduler lrScheduler,
        @Doc("warm-up fraction of the updates.")
        Double warmupRatio,
        @Doc("AdamW weight decay (matrices only).")
        Double weightDecay,
        @Doc("global-norm clip per model (0 = off).")
        Double maxGradNorm,
        @Doc("steps (−1 = `num_train_epochs` passes over the prompts).")
        Integer maxSteps,
        @Doc("passes over the prompts when `max_steps` is −1.")
        Integer numTrainEpochs,
        @Doc("run seed.")
        Long seed,
        @Doc("checkpoint interval (0 = only at the end).")
        Integer saveSteps,
        @Doc("checkpoints kept.")
        Integer saveTotalLimit,
        @Doc("write `samples/step-N.jsonl` every this many steps (0 = never).")
        Integer logCompletionsSteps,
        @Doc("consecutive NaN/Inf steps before the run stops.")
        Integer maxNonFiniteSteps) {

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
        require(promptsPerStep >= 1, "prompts_per_step must be ≥ 1");
        require(numGenerations >= 1, "num_generations must be ≥ 1");
        require(maxPromptLength >= 1 && maxCompletionLength >= 1, "max_prompt_length and max_completion_length must be ≥ 1");
        require(temperature > 0, "temperature must be > 0");
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1]");
        require(topK >= 0, "top_k must be ≥ 0");
        require(numPpoEpochs >= 1, "num_ppo_epochs must be ≥ 1");
        require(numMiniBatches >= 1 && numMiniBatches <= promptsPerStep * numGenerations,
                "num_mini_batches must be in [1, prompts_per_step × num_generations]");
        require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps must be ≥ 1");
        require(cliprange >= 0 && cliprange < 1, "cliprange must be in [0, 1)");
        require(cliprangeValue > 0, "cliprange_value must be > 0");
        require(vfCoef >= 0, "vf_coef must be ≥ 0");
        require(gamma >= 0 && gamma <= 1, "gamma must be in [0, 1]");
        require(lam >= 0 && lam <= 1, "lam must be in [0, 1]");
        require(klCoef >= 0, "kl_coef must be ≥ 0");
        require(learningRate >= 0 && valueLearningRate >= 0, "learning rates must be ≥ 0");
        require(warmupRatio >= 0 && warmupRatio <= 1, "warmup_ratio must be in [0, 1]");
        require(weightDecay >= 0 && maxGradNorm >= 0, "weight_decay and max_grad_norm must be ≥ 0");
        require(maxSteps == -1 || maxSteps >= 1, "max_steps must be ≥ 1 or −1");
        require(numTrainEpochs >= 1, "num_train_epochs must be ≥ 1");
        require(saveSteps >= 0 && saveTotalLimit >= 1 && logCompletionsSteps >= 0 && maxNonFiniteSteps >= 1,
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
}
