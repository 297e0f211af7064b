package io.r1kit.grpo;

import static io.r1kit.grpo.config.ConfigRecords.or;
import static io.r1kit.grpo.config.ConfigRecords.require;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.grpo.metrics.ReflectionRate;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every switch of the GRPO trainer, named as TRL's {@code GRPOConfig} names it (YAML uses the
 * snake_case form: {@code numGenerations} is {@code num_generations}). A component left null
 * (absent from the YAML) takes the default set in the compact constructor, which also
 * rejects bad values with a message naming the YAML key. Each option is documented by its {@link Doc}
 * annotation; docs/config.md is generated from them.
 *
 * <p>Batch vocabulary: one <em>step</em> takes {@code prompts_per_step} prompts (B), samples
 * {@code num_generations} (G) completions each, and then makes {@code num_iterations} passes over
 * those B·G completions. Each pass is split into {@code num_mini_batches} mini-batches, each of
 * which is one optimizer update; a mini-batch is accumulated over micro-batches of
 * {@code mini-batch size / gradient_accumulation_steps} sequences, or of at most
 * {@code max_tokens_per_micro_batch} padded tokens when that is set.
 */
public record GrpoConfig(
        @Doc("B, prompts per step.")
        Integer promptsPerStep,
        @Doc(value = "G, completions sampled per prompt; must be ≥ 2 (a group of one has no baseline).", source = "TRL")
        Integer numGenerations,
        @Doc("prompts longer than this many tokens keep their last tokens (left truncation, as TRL).")
        Integer maxPromptLength,
        @Doc("tokens generated at most per completion; also the divisor of `dr_grpo`.")
        Integer maxCompletionLength,
        @Doc("sampling temperature of rollouts.")
        Double temperature,
        @Doc("nucleus sampling mass of rollouts (1.0 = off).")
        Double topP,
        @Doc("top-k of rollouts (0 = off).")
        Integer topK,
        @Doc(value = "completions cut by `max_completion_length` get no loss.", source = "DAPO")
        Boolean maskTruncatedCompletions,
        @Doc(value = "drop groups whose rewards all agree (zero advantage) and sample more prompts until the batch is full.", source = "DAPO")
        Boolean dynamicSampling,
        @Doc("extra rollout batches dynamic sampling may draw per step before it trains on what it has.")
        Integer maxResampleBatches,
        @Doc(value = "how advantages are normalised: `group`, `batch` or `none` (Dr. GRPO); see [grpo.md](grpo.md#advantages-scale_rewards).", source = "TRL")
        ScaleRewards scaleRewards,
        @Doc(value = "how per-token losses are aggregated: `grpo`, `bnpo`, `dr_grpo`, `dapo`; see [grpo.md](grpo.md#the-loss-grpoloss). Recent TRL versions default to `dapo`.", source = "TRL")
        LossType lossType,
        @Doc("lower clip range ε_low: ratios below 1 − ε are clipped.")
        Double epsilon,
        @Doc(value = "upper clip range ε_high: ratios above 1 + ε_high are clipped (clip-higher sets e.g. 0.28).", unset = "= `epsilon`", source = "DAPO")
        Double epsilonHigh,
        @Doc("weight of the k3 KL to the frozen reference; 0 means no reference model is loaded.")
        Double beta,
        @Doc("passes (μ in the GRPO paper) over each batch of rollouts; > 1 stores old-policy log-probs.")
        Integer numIterations,
        @Doc("optimizer updates per pass (the B·G completions are split into this many mini-batches).")
        Integer numMiniBatches,
        @Doc("micro-batches per mini-batch (sequence budget).")
        Integer gradientAccumulationSteps,
        @Doc("token budget of a micro-batch (rows × padded length); 0 = use `gradient_accumulation_steps`.")
        Integer maxTokensPerMicroBatch,
        @Doc("peak AdamW learning rate.")
        Double learningRate,
        @Doc("`constant`, `linear` (to 0) or `cosine` (to 0), after warm-up.")
        LrScheduler lrScheduler,
        @Doc("fraction of the optimizer updates spent warming up linearly.")
        Double warmupRatio,
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
        @Doc("steps to train; −1 means `num_train_epochs` passes over the train prompts.")
        Integer maxSteps,
        @Doc("passes over the train prompts when `max_steps` is −1.")
        Integer numTrainEpochs,
        @Doc("seeds the prompt order and every rollout (per step, so a resumed run draws the same samples).")
        Long seed,
        @Doc("checkpoint every this many steps (0 = only at the end).")
        Integer saveSteps,
        @Doc("checkpoints kept (oldest deleted first).")
        Integer saveTotalLimit,
        @Doc("evaluate every this many steps (0 = only at the end, when an eval set is given).")
        Integer evalSteps,
        @Doc("write `samples/step-N.jsonl` every this many steps (0 = never).")
        Integer logCompletionsSteps,
        @Doc("consecutive steps with NaN/Inf loss or gradients after which the run stops.")
        Integer maxNonFiniteSteps,
        @Doc("eval samples per prompt, k: `accuracy` is then pass@1 averaged over the k samples (the R1 paper's metric) and `pass@k` is also reported.")
        Integer evalNumSamples,
        @Doc("eval sampling temperature; 0 = greedy decoding (needs `eval_num_samples` 1). The R1 paper evaluates at 0.6 with k samples.")
        Double evalTemperature,
        @Doc("eval prompts used (0 = the whole eval set).")
        Integer evalMaxExamples,
        @Doc(value = "reward whose value decides \"correct\" (accuracy, length of correct answers).", unset = "`accuracy` if configured, else the first reward")
        String accuracyReward,
        @Doc(value = "reward whose value decides the format rate.", unset = "`format` if configured, else the built-in R1-Zero format check")
        String formatReward,
        @Doc("a completion is correct when its accuracy reward is ≥ this.")
        Double correctThreshold,
        @Doc(value = "`token` (PPO/GRPO per-token ratios) or `sequence` (GSPO: one ratio per completion, the geometric mean of its token ratios, clipped per sequence).", source = "GSPO (Zheng et al., 2025); TRL")
        ImportanceSamplingLevel importanceSamplingLevel,
        @Doc(value = "`grpo` (group-normalised, `scale_rewards`), `rloo` (leave-one-out mean baseline), `reinforce_pp` (REINFORCE++: token-normalised over the batch) or `reinforce_pp_baseline` (group mean subtracted, then token-normalised over the batch); see [algorithms.md](algorithms.md).", source = "RLOO (Ahmadian et al., 2024); REINFORCE++ (Hu, 2025)")
        AdvantageEstimator advantageEstimator,
        @Doc(value = "`k1`, `k2`, `k3` or `low_var_kl` (k3 clamped as verl).", source = "Schulman, \"Approximating KL divergence\"; verl")
        KlEstimator klEstimator,
        @Doc(value = "the KL (of `kl_estimator`, weight `beta`) is a reward penalty, PPO-style, instead of a loss term: per token with returns-to-go and per-token advantages for `reinforce_pp`, summed over the completion for the other estimators; see [algorithms.md](algorithms.md).", source = "verl, OpenRLHF")
        Boolean klInReward,
        @Doc(value = "upper bound of the unclipped ratio (two-sided clipping); must be > 1 + epsilon_high.", unset = "no bound", source = "INTELLECT-2")
        Double delta,
        @Doc(value = "train only on the tokens whose entropy is in this top quantile of the micro-batch (1.0 = all).", source = "Wang et al., 2025 (\"beyond the 80/20 rule\"); TRL")
        Double topEntropyQuantile,
        @Doc("weight of an entropy bonus in the loss.")
        Double entropyCoef,
        @Doc(value = "`none`, `tis` (truncated importance sampling: weight min(ρ, cap)) or `mask` (weight 1 where ρ ≤ cap, else 0), with ρ = π_trainer(old) / π_sampler.", source = "TRL `vllm_importance_sampling_*`; verl rollout correction")
        RolloutCorrection rolloutCorrection,
        @Doc("`token` (ρ per token) or `sequence` (ρ = the product of the completion's token ratios).")
        ImportanceSamplingLevel rolloutCorrectionLevel,
        @Doc("the cap of `rollout_correction`.")
        Double rolloutCorrectionCap,
        @Doc(value = "`sum_then_normalize` (the weighted reward sum is normalised) or `normalize_then_sum` (GDPO: each reward normalised within its group, then weighted and summed).", source = "GDPO")
        MultiObjectiveAggregation multiObjectiveAggregation,
        @Doc(value = "words or phrases whose presence marks a completion as reflective (the R1 paper's \"wait\", \"re-evaluate\", \"verify\", \"check\"): `completions/reflection_rate` in the step and eval metrics; a metric only, never a reward.", unset = "no metric", source = "R1 §2.2.4")
        List<String> reflectionWords) {

    /** {@code scale_rewards}: the denominator of the advantage. */
    public enum ScaleRewards {
        /** A = (r − mean_group) / (std_group + 1e-4): the GRPO paper. */
        GROUP,
        /** A = (r − mean_group) / (std_batch + 1e-4): one scale for the whole batch. */
        BATCH,
        /** A = r − mean_group: Dr. GRPO (no per-question difficulty bias). */
        NONE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static ScaleRewards parse(String s) { return ConfigRecords.parseEnum(ScaleRewards.class, "scale_rewards", s); }
    }

    /** {@code loss_type}: how the per-token losses of a mini-batch become one number (see {@link GrpoLoss}); cispo also changes the surrogate. */
    public enum LossType {
        GRPO, BNPO, DR_GRPO, DAPO, CISPO;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static LossType parse(String s) { return ConfigRecords.parseEnum(LossType.class, "loss_type", s); }
    }

    /** {@code importance_sampling_level} and {@code rollout_correction_level}: one ratio per token or per completion. */
    public enum ImportanceSamplingLevel {
        TOKEN, SEQUENCE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static ImportanceSamplingLevel parse(String s) { return ConfigRecords.parseEnum(ImportanceSamplingLevel.class, "importance_sampling_level", s); }
    }

    /** {@code advantage_estimator}: the baseline and normalisation of the advantages (see {@link Advantages}). */
    public enum AdvantageEstimator {
        GRPO, RLOO, REINFORCE_PP, REINFORCE_PP_BASELINE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static AdvantageEstimator parse(String s) { return ConfigRecords.parseEnum(AdvantageEstimator.class, "advantage_estimator", s); }
    }

    /** {@code kl_estimator}: Schulman's estimators of KL(π ‖ π_ref) from sampled tokens (see {@link GrpoLoss}). */
    public enum KlEstimator {
        K1, K2, K3, LOW_VAR_KL;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static KlEstimator parse(String s) { return ConfigRecords.parseEnum(KlEstimator.class, "kl_estimator", s); }
    }

    /** {@code rollout_correction}: how the trainer/sampler mismatch is corrected (see {@link RolloutMismatch}). */
    public enum RolloutCorrection {
        NONE, TIS, MASK;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static RolloutCorrection parse(String s) { return ConfigRecords.parseEnum(RolloutCorrection.class, "rollout_correction", s); }
    }

    /** {@code multi_objective_aggregation}: where several rewards are combined relative to the normalisation. */
    public enum MultiObjectiveAggregation {
        SUM_THEN_NORMALIZE, NORMALIZE_THEN_SUM;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static MultiObjectiveAggregation parse(String s) {
            return ConfigRecords.parseEnum(MultiObjectiveAggregation.class, "multi_objective_aggregation", s);
        }
    }

    /** {@code lr_scheduler}: shape of the learning rate after the linear warm-up. */
    public enum LrScheduler {
        CONSTANT, LINEAR, COSINE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static LrScheduler parse(String s) { return ConfigRecords.parseEnum(LrScheduler.class, "lr_scheduler", s); }
    }

    public GrpoConfig {
        promptsPerStep = or(promptsPerStep, 8);
        numGenerations = or(numGenerations, 8);
        maxPromptLength = or(maxPromptLength, 512);
        maxCompletionLength = or(maxCompletionLength, 256);
        temperature = or(temperature, 1.0);
        topP = or(topP, 1.0);
        topK = or(topK, 0);
        maskTruncatedCompletions = or(maskTruncatedCompletions, false);
        dynamicSampling = or(dynamicSampling, false);
        maxResampleBatches = or(maxResampleBatches, 3);
        scaleRewards = or(scaleRewards, ScaleRewards.GROUP);
        lossType = or(lossType, LossType.GRPO);
        epsilon = or(epsilon, 0.2);
        epsilonHigh = or(epsilonHigh, epsilon);
        beta = or(beta, 0.0);
        numIterations = or(numIterations, 1);
        numMiniBatches = or(numMiniBatches, 1);
        gradientAccumulationSteps = or(gradientAccumulationSteps, 1);
        maxTokensPerMicroBatch = or(maxTokensPerMicroBatch, 0);
        learningRate = or(learningRate, 1e-6);
        lrScheduler = or(lrScheduler, LrScheduler.LINEAR);
        warmupRatio = or(warmupRatio, 0.0);
        weightDecay = or(weightDecay, 0.0);
        maxGradNorm = or(maxGradNorm, 1.0);
        adamBeta1 = or(adamBeta1, 0.9);
        adamBeta2 = or(adamBeta2, 0.999);
        adamEpsilon = or(adamEpsilon, 1e-8);
        maxSteps = or(maxSteps, -1);
        numTrainEpochs = or(numTrainEpochs, 1);
        seed = or(seed, 42L);
        saveSteps = or(saveSteps, 100);
        saveTotalLimit = or(saveTotalLimit, 2);
        evalSteps = or(evalSteps, 0);
        logCompletionsSteps = or(logCompletionsSteps, 10);
        maxNonFiniteSteps = or(maxNonFiniteSteps, 3);
        evalNumSamples = or(evalNumSamples, 1);
        evalTemperature = or(evalTemperature, 0.0);
        evalMaxExamples = or(evalMaxExamples, 0);
        correctThreshold = or(correctThreshold, 1.0);
        importanceSamplingLevel = or(importanceSamplingLevel, ImportanceSamplingLevel.TOKEN);
        advantageEstimator = or(advantageEstimator, AdvantageEstimator.GRPO);
        klEstimator = or(klEstimator, KlEstimator.K3);
        klInReward = or(klInReward, false);
        topEntropyQuantile = or(topEntropyQuantile, 1.0);
        entropyCoef = or(entropyCoef, 0.0);
        rolloutCorrection = or(rolloutCorrection, RolloutCorrection.NONE);
        rolloutCorrectionLevel = or(rolloutCorrectionLevel, ImportanceSamplingLevel.TOKEN);
        rolloutCorrectionCap = or(rolloutCorrectionCap, 2.0);
        multiObjectiveAggregation = or(multiObjectiveAggregation, MultiObjectiveAggregation.SUM_THEN_NORMALIZE);
        reflectionWords = ReflectionRate.checked(reflectionWords, "reflection_words");

        require(promptsPerStep >= 1, "prompts_per_step must be ≥ 1, got " + promptsPerStep);
        require(numGenerations >= 2, "num_generations must be ≥ 2 (a group of one has no baseline), got " + numGenerations);
        require(maxPromptLength >= 1, "max_prompt_length must be ≥ 1, got " + maxPromptLength);
        require(temperature > 0 && Double.isFinite(temperature), "temperature must be > 0, got " + temperature);
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1], got " + topP);
        require(topK >= 0, "top_k must be ≥ 0 (0 = off), got " + topK);
        require(maxResampleBatches >= 0, "max_resample_batches must be ≥ 0, got " + maxResampleBatches);
        // the loss's constants are checked where the loss defines them: 0 ≤ epsilon ≤ epsilon_high, beta ≥ 0,
        // max_completion_length ≥ 1, delta > 1 + epsilon_high, top_entropy_quantile in (0, 1], entropy_coef ≥ 0;
        // here only what the loss allows and a run does not
        new GrpoLoss.Settings(lossType, epsilon, epsilonHigh, beta, maxCompletionLength, importanceSamplingLevel, klEstimator,
                delta == null ? Double.NaN : delta, topEntropyQuantile, entropyCoef);
        require(epsilon < 1, "epsilon must be < 1, got " + epsilon);
        require(Double.isFinite(beta), "beta must be finite, got " + beta);
        require(numIterations >= 1, "num_iterations must be ≥ 1, got " + numIterations);
        require(numMiniBatches >= 1, "num_mini_batches must be ≥ 1, got " + numMiniBatches);
        require(numMiniBatches <= promptsPerStep * numGenerations, "num_mini_batches (" + numMiniBatches
                + ") must be ≤ prompts_per_step × num_generations (" + promptsPerStep * numGenerations + ")");
        require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps must be ≥ 1, got " + gradientAccumulationSteps);
        require(maxTokensPerMicroBatch >= 0, "max_tokens_per_micro_batch must be ≥ 0 (0 = off), got " + maxTokensPerMicroBatch);
        require(learningRate >= 0 && Double.isFinite(learningRate), "learning_rate must be ≥ 0, got " + learningRate);
        require(warmupRatio >= 0 && warmupRatio <= 1, "warmup_ratio must be in [0, 1], got " + warmupRatio);
        require(weightDecay >= 0, "weight_decay must be ≥ 0, got " + weightDecay);
        require(maxGradNorm >= 0, "max_grad_norm must be ≥ 0 (0 = off), got " + maxGradNorm);
        require(adamBeta1 >= 0 && adamBeta1 < 1, "adam_beta1 must be in [0, 1), got " + adamBeta1);
        require(adamBeta2 >= 0 && adamBeta2 < 1, "adam_beta2 must be in [0, 1), got " + adamBeta2);
        require(adamEpsilon >= 0, "adam_epsilon must be ≥ 0, got " + adamEpsilon);
        require(maxSteps == -1 || maxSteps >= 1, "max_steps must be ≥ 1, or −1 for num_train_epochs, got " + maxSteps);
        require(numTrainEpochs >= 1, "num_train_epochs must be ≥ 1, got " + numTrainEpochs);
        require(saveSteps >= 0, "save_steps must be ≥ 0 (0 = only at the end), got " + saveSteps);
        require(saveTotalLimit >= 1, "save_total_limit must be ≥ 1, got " + saveTotalLimit);
        require(evalSteps >= 0, "eval_steps must be ≥ 0, got " + evalSteps);
        require(logCompletionsSteps >= 0, "log_completions_steps must be ≥ 0, got " + logCompletionsSteps);
        require(maxNonFiniteSteps >= 1, "max_non_finite_steps must be ≥ 1, got " + maxNonFiniteSteps);
        require(evalNumSamples >= 1, "eval_num_samples must be ≥ 1, got " + evalNumSamples);
        require(evalTemperature >= 0, "eval_temperature must be ≥ 0 (0 = greedy), got " + evalTemperature);
        require(evalNumSamples == 1 || evalTemperature > 0, "eval_num_samples = " + evalNumSamples
                + " needs eval_temperature > 0 (greedy decoding gives k identical samples)");
        require(evalMaxExamples >= 0, "eval_max_examples must be ≥ 0 (0 = all), got " + evalMaxExamples);
        require(delta == null || Double.isFinite(delta), "delta must be finite, got " + delta);
        require(Double.isFinite(entropyCoef), "entropy_coef must be finite, got " + entropyCoef);
        require(rolloutCorrectionCap >= 1 && Double.isFinite(rolloutCorrectionCap), "rollout_correction_cap must be ≥ 1, got " + rolloutCorrectionCap);
        require(!klInReward || beta > 0, "kl_in_reward: true needs beta > 0 (the weight of the KL penalty in the reward)");
        require(lossType != LossType.CISPO || epsilonHigh >= 1, "loss_type cispo clamps the importance weight at epsilon_high (TRL: the "
                + "ε_max of MiniMax-M1 / ScaleRL, e.g. 5.0), so epsilon_high must be ≥ 1, got " + epsilonHigh);
    }

    /** Every default. */
    public static GrpoConfig defaults() {
        return of(Map.of());
    }

    /** Binds snake_case keys ({@code Map.of("num_generations", 4, "loss_type", "dapo")}); absent keys take defaults. */
    public static GrpoConfig of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, GrpoConfig.class, "grpo config");
    }

    /** This config with some keys replaced (snake_case). */
    public GrpoConfig with(Map<String, ?> snakeCaseOverrides) {
        Map<String, Object> m = toMap();
        // epsilon_high equal to epsilon is the symmetric clip (epsilon_high unset): it follows a new epsilon
        if (snakeCaseOverrides.containsKey("epsilon") && !snakeCaseOverrides.containsKey("epsilon_high") && epsilonHigh.equals(epsilon)) {
            m.remove("epsilon_high");
        }
        m.putAll(snakeCaseOverrides);
        return of(m);
    }

    /** Every option by its snake_case name, defaults filled in (written beside runs). */
    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return ConfigRecords.toMap(this);
    }

    /** Completions per step, B·G. */
    public int completionsPerStep() {
        return promptsPerStep * numGenerations;
    }
}
