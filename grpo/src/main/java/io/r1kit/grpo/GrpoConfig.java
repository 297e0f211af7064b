package io.r1kit.grpo;

import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.grpo.metrics.ReflectionRate;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every switch of the GRPO trainer, named as TRL's {@code GRPOConfig} names it (YAML uses the
 * snake_case form: {@code numGenerations} is {@code num_generations}). A component left null
 * (absent from the YAML) takes the default written in its javadoc; the compact constructor
 * fills the defaults in and rejects bad values with a message naming the YAML key.
 *
 * <p>Batch vocabulary: one <em>step</em> takes {@code prompts_per_step} prompts (B), samples
 * {@code num_generations} (G) completions each, and then makes {@code num_iterations} passes over
 * those B·G completions. Each pass is split into {@code num_mini_batches} mini-batches, each of
 * which is one optimizer update; a mini-batch is accumulated over micro-batches of
 * {@code mini-batch size / gradient_accumulation_steps} sequences, or of at most
 * {@code max_tokens_per_micro_batch} padded tokens when that is set.
 *
 * @param promptsPerStep            B, prompts per step. Default 8.
 * @param numGenerations            G, completions sampled per prompt (TRL {@code num_generations}). Default 8; must be ≥ 2.
 * @param maxPromptLength           prompts longer than this many tokens keep their last tokens (left truncation, as TRL). Default 512.
 * @param maxCompletionLength       tokens generated at most per completion; also the divisor of {@code dr_grpo}. Default 256.
 * @param temperature               sampling temperature of rollouts. Default 1.0.
 * @param topP                      nucleus sampling mass of rollouts (1.0 = off). Default 1.0.
 * @param topK                      top-k of rollouts (0 = off). Default 0.
 * @param maskTruncatedCompletions  completions cut by {@code max_completion_length} get no loss (DAPO). Default false.
 * @param dynamicSampling           drop groups whose rewards all agree (zero advantage) and sample more prompts until the batch is full (DAPO). Default false.
 * @param maxResampleBatches        extra rollout batches dynamic sampling may draw per step before it trains on what it has. Default 3.
 * @param scaleRewards              how advantages are normalised: {@code group}, {@code batch} or {@code none} (Dr. GRPO). Default group.
 * @param lossType                  how per-token losses are aggregated: {@code grpo}, {@code bnpo}, {@code dr_grpo}, {@code dapo}. Default grpo.
 * @param epsilon                   lower clip range ε_low: ratios below 1 − ε are clipped. Default 0.2.
 * @param epsilonHigh               upper clip range ε_high (DAPO clip-higher, e.g. 0.28); unset means {@code epsilon}. Default unset.
 * @param beta                      weight of the k3 KL to the frozen reference; 0 means no reference model is loaded. Default 0.0.
 * @param numIterations             passes (μ in the GRPO paper) over each batch of rollouts; &gt; 1 stores old-policy log-probs. Default 1.
 * @param numMiniBatches            optimizer updates per pass (the B·G completions are split into this many mini-batches). Default 1.
 * @param gradientAccumulationSteps micro-batches per mini-batch (sequence budget). Default 1.
 * @param maxTokensPerMicroBatch    token budget of a micro-batch (rows × padded length); 0 = use {@code gradient_accumulation_steps}. Default 0.
 * @param learningRate              peak AdamW learning rate. Default 1e-6.
 * @param lrScheduler               {@code constant}, {@code linear} (to 0) or {@code cosine} (to 0), after warm-up. Default linear.
 * @param warmupRatio               fraction of the optimizer updates spent warming up linearly. Default 0.0.
 * @param weightDecay               AdamW decoupled weight decay (matrices only; norms and biases never decay). Default 0.0.
 * @param maxGradNorm               global gradient-norm clip (0 = off). Default 1.0.
 * @param adamBeta1                 AdamW β1. Default 0.9.
 * @param adamBeta2                 AdamW β2. Default 0.999.
 * @param adamEpsilon               AdamW ε. Default 1e-8.
 * @param maxSteps                  steps to train; −1 means {@code num_train_epochs} passes over the train prompts. Default −1.
 * @param numTrainEpochs            passes over the train prompts when {@code max_steps} is −1. Default 1.
 * @param seed                      seeds the prompt order and every rollout (per step, so a resumed run draws the same samples). Default 42.
 * @param saveSteps                 checkpoint every this many steps (0 = only at the end). Default 100.
 * @param saveTotalLimit            checkpoints kept (oldest deleted first). Default 2.
 * @param evalSteps                 evaluate every this many steps (0 = only at the end, when an eval set is given). Default 0.
 * @param logCompletionsSteps       write {@code samples/step-N.jsonl} every this many steps (0 = never). Default 10.
 * @param maxNonFiniteSteps         consecutive steps with NaN/Inf loss or gradients after which the run stops. Default 3.
 * @param evalNumSamples            eval samples per prompt, k: {@code accuracy} is then pass@1 averaged over the k samples (the R1 paper's metric) and {@code pass@k} is also reported. Default 1.
 * @param evalTemperature           eval sampling temperature; 0 = greedy decoding (needs {@code eval_num_samples} 1). The R1 paper evaluates at 0.6 with k samples. Default 0.
 * @param evalMaxExamples           eval prompts used (0 = the whole eval set). Default 0.
 * @param accuracyReward            reward whose value decides "correct" (accuracy, length of correct answers); unset = {@code accuracy} if configured, else the first reward. Default unset.
 * @param formatReward              reward whose value decides the format rate; unset = {@code format} if configured, else the built-in R1-Zero format check. Default unset.
 * @param correctThreshold          a completion is correct when its accuracy reward is ≥ this. Default 1.0.
 * @param reflectionWords           words or phrases whose presence marks a completion as reflective (the R1 paper's "wait", "re-evaluate", "verify", "check"): {@code completions/reflection_rate} in the step and eval metrics; a metric only, no reward. Default empty (no metric).
 */
public record GrpoConfig(
        Integer promptsPerStep,
        Integer numGenerations,
        Integer maxPromptLength,
        Integer maxCompletionLength,
        Double temperature,
        Double topP,
        Integer topK,
        Boolean maskTruncatedCompletions,
        Boolean dynamicSampling,
        Integer maxResampleBatches,
        ScaleRewards scaleRewards,
        LossType lossType,
        Double epsilon,
        Double epsilonHigh,
        Double beta,
        Integer numIterations,
        Integer numMiniBatches,
        Integer gradientAccumulationSteps,
        Integer maxTokensPerMicroBatch,
        Double learningRate,
        LrScheduler lrScheduler,
        Double warmupRatio,
        Double weightDecay,
        Double maxGradNorm,
        Double adamBeta1,
        Double adamBeta2,
        Double adamEpsilon,
        Integer maxSteps,
        Integer numTrainEpochs,
        Long seed,
        Integer saveSteps,
        Integer saveTotalLimit,
        Integer evalSteps,
        Integer logCompletionsSteps,
        Integer maxNonFiniteSteps,
        Integer evalNumSamples,
        Double evalTemperature,
        Integer evalMaxExamples,
        String accuracyReward,
        String formatReward,
        Double correctThreshold,
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

    /** {@code loss_type}: how the per-token losses of a mini-batch become one number (see {@link GrpoLoss}). */
    public enum LossType {
        GRPO, BNPO, DR_GRPO, DAPO;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static LossType parse(String s) { return ConfigRecords.parseEnum(LossType.class, "loss_type", s); }
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
        reflectionWords = ReflectionRate.checked(reflectionWords, "reflection_words");

        require(promptsPerStep >= 1, "prompts_per_step must be ≥ 1, got " + promptsPerStep);
        require(numGenerations >= 2, "num_generations must be ≥ 2 (a group of one has no baseline), got " + numGenerations);
        require(maxPromptLength >= 1, "max_prompt_length must be ≥ 1, got " + maxPromptLength);
        require(maxCompletionLength >= 1, "max_completion_length must be ≥ 1, got " + maxCompletionLength);
        require(temperature > 0 && Double.isFinite(temperature), "temperature must be > 0, got " + temperature);
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1], got " + topP);
        require(topK >= 0, "top_k must be ≥ 0 (0 = off), got " + topK);
        require(maxResampleBatches >= 0, "max_resample_batches must be ≥ 0, got " + maxResampleBatches);
        require(epsilon >= 0 && epsilon < 1, "epsilon must be in [0, 1), got " + epsilon);
        require(epsilonHigh >= epsilon, "epsilon_high must be ≥ epsilon (" + epsilon + "), got " + epsilonHigh);
        require(beta >= 0 && Double.isFinite(beta), "beta must be ≥ 0, got " + beta);
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

    private static <T> T or(T v, T def) {
        return v == null ? def : v;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }
}
