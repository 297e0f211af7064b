package io.r1kit.grpo.eval;

import io.r1kit.data.Dataset;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.grpo.GrpoConfig;
import io.r1kit.grpo.metrics.ReflectionRate;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.rollout.Rollouts.Prompt;
import io.r1kit.grpo.rollout.Rollouts.Sample;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.LogprobMode;
import io.r1kit.model.generate.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the policy on a held-out set: greedy decoding (temperature 0) or k samples per prompt at a
 * temperature, as the R1 paper evaluates (k samples at temperature 0.6, top-p 0.95, pass@1
 * averaged over them). Reports
 * <ul>
 *   <li>{@code accuracy}: fraction of all samples that are correct: greedy, the fraction of prompts
 *       answered correctly; with k samples, pass@1 estimated from k samples per prompt</li>
 *   <li>{@code pass@k} (k &gt; 1): fraction of prompts with at least one correct sample among k</li>
 *   <li>{@code reward} and {@code rewards/<name>/mean} (nulls left out of the mean)</li>
 *   <li>{@code completions/mean_length}, {@code completions/mean_length_correct},
 *       {@code completions/mean_length_incorrect} (tokens; NaN when there is no such completion)</li>
 *   <li>{@code completions/reflection_rate} when {@code reflection_words} are given: see {@link ReflectionRate}</li>
 *   <li>{@code format_rate}: fraction of samples in the R1-Zero format; {@code num_examples}, {@code num_samples} (k)</li>
 * </ul>
 */
public final class Evaluator {

    /**
     * @param numSamples          samples per prompt, k (1 with temperature 0 = greedy)
     * @param temperature         sampling temperature; 0 = greedy decoding
     * @param topK                top-k when sampling (0 = off)
     * @param topP                top-p when sampling (1 = off)
     * @param maxCompletionLength tokens generated at most
     * @param maxExamples         eval prompts used (0 = all)
     * @param seed                sampling seed
     * @param reflectionWords     phrases counted by {@code completions/reflection_rate} (empty = no such metric)
     */
    public record Options(int numSamples, double temperature, int topK, double topP, int maxCompletionLength, int maxExamples, long seed,
                          List<String> reflectionWords) {
        public Options(int numSamples, double temperature, int topK, double topP, int maxCompletionLength, int maxExamples, long seed) {
            this(numSamples, temperature, topK, topP, maxCompletionLength, maxExamples, seed, List.of());
        }

        public Options {
            reflectionWords = ReflectionRate.checked(reflectionWords, "reflection_words");
            if (numSamples < 1) throw new IllegalArgumentException("eval num_samples must be ≥ 1, got " + numSamples);
            if (temperature < 0) throw new IllegalArgumentException("eval temperature must be ≥ 0 (0 = greedy), got " + temperature);
            if (numSamples > 1 && temperature == 0) {
                throw new IllegalArgumentException("eval num_samples = " + numSamples + " needs a temperature > 0 (greedy decoding gives k identical samples)");
            }
            if (maxCompletionLength < 1) throw new IllegalArgumentException("eval max completion length must be ≥ 1");
        }

        public static Options of(GrpoConfig c) {
            return new Options(c.evalNumSamples(), c.evalTemperature(), c.topK(), c.topP(), c.maxCompletionLength(),
                    c.evalMaxExamples(), c.seed(), c.reflectionWords());
        }

        public SamplingParams sampling() {
            if (temperature == 0) return SamplingParams.greedy(maxCompletionLength);
            return SamplingParams.sample((float) temperature, maxCompletionLength, seed).withTopK(topK).withTopP((float) topP)
                    .withLogprobMode(LogprobMode.TEMPERATURE);
        }
    }

    /** Result: the metrics (keys as listed in the class comment) and every scored sample. */
    public record Result(Map<String, Double> metrics, List<Sample> samples) {}

    private Evaluator() {}

    /**
     * The {@code eval} command's entry: the policy on {@code eval} with the config's prompt length,
     * eval options ({@code eval_num_samples}, {@code eval_temperature}, {@code eval_max_examples}, top-k/p,
     * {@code max_completion_length}) and correctness settings ({@code accuracy_reward},
     * {@code format_reward}, {@code correct_threshold}). Prompts are encoded with special tokens (BOS).
     */
    public static Result run(CausalLM model, Tokenizer tokenizer, PromptTemplate template, CompositeReward rewards, Dataset eval,
                             GrpoConfig config) {
        try (Rollouts r = new Rollouts(tokenizer, template, rewards, config.maxPromptLength(), true, config.accuracyReward(),
                config.formatReward(), config.correctThreshold())) {
            return run(new Generator(model, tokenizer), r, eval, Options.of(config));
        }
    }

    public static Result run(Generator generator, Rollouts rollouts, Dataset eval, Options o) {
        int n = o.maxExamples() > 0 ? Math.min(o.maxExamples(), eval.size()) : eval.size();
        if (n == 0) throw new IllegalArgumentException("eval set is empty");
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) prompts.add(rollouts.prompt(eval.get(i)));
        List<Sample> all = new ArrayList<>();
        int chunk = 64;   // prompts per generate call: bounds the KV caches
        for (int p0 = 0; p0 < n; p0 += chunk) {
            List<Prompt> part = prompts.subList(p0, Math.min(n, p0 + chunk));
            List<Sample> s = rollouts.sampleAndScore(generator, part, o.numSamples(), o.sampling().withSeed(o.seed() + p0), null);
            for (Sample x : s) all.add(new Sample(x.group() + p0, x.prompt(), x.tokens(), x.sampleLogprobs(), x.text(),
                    x.finishReason(), x.reward(), x.rewardValues(), x.correct(), x.formatted()));
        }
        Map<String, Double> m = metrics(all, o.numSamples(), rollouts.rewardNames());
        if (!o.reflectionWords().isEmpty()) m.put(ReflectionRate.METRIC, ReflectionRate.of(all.stream().map(Sample::text).toList(), o.reflectionWords()));
        return new Result(m, all);
    }

    /** The eval metrics of scored samples, k per prompt, prompt-major. */
    public static Map<String, Double> metrics(List<Sample> all, int k, List<String> rewardNames) {
        int prompts = all.size() / k, solved = 0, correct = 0, formatted = 0;
        for (int p = 0; p < prompts; p++) {
            boolean any = false;
            for (int j = 0; j < k; j++) any |= all.get(p * k + j).correct();
            if (any) solved++;
        }
        double lenAll = 0, lenC = 0, lenW = 0, reward = 0;
        for (Sample s : all) {
            lenAll += s.tokens().length;
            reward += s.reward();
            if (s.correct()) {
                correct++;
                lenC += s.tokens().length;
            } else {
                lenW += s.tokens().length;
            }
            if (s.formatted()) formatted++;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("accuracy", (double) correct / all.size());
        if (k > 1) m.put("pass@k", (double) solved / prompts);
        m.put("reward", reward / all.size());
        for (int f = 0; f < rewardNames.size(); f++) {
            double sum = 0;
            int cnt = 0;
            for (Sample s : all) {
                Double v = s.rewardValues()[f];
                if (v != null) {
                    sum += v;
                    cnt++;
                }
            }
            m.put("rewards/" + rewardNames.get(f) + "/mean", cnt == 0 ? Double.NaN : sum / cnt);
        }
        m.put("completions/mean_length", lenAll / all.size());
        m.put("completions/mean_length_correct", correct == 0 ? Double.NaN : lenC / correct);
        m.put("completions/mean_length_incorrect", correct == all.size() ? Double.NaN : lenW / (all.size() - correct));
        m.put("format_rate", (double) formatted / all.size());
        m.put("num_examples", (double) prompts);
        m.put("num_samples", (double) k);
        return m;
    }
}
