package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.config.Doc;
import io.r1kit.data.Dataset;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.SourceRoutedReward;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The greedy evaluation every R1 stage ends with, written to {@code eval/<stage>.json}. Besides the
 * evaluator's metrics it reports what the R1 stages are about, computed from the scored samples:
 * <ul>
 *   <li>{@code accuracy}, {@code format_rate}: over the prompts the accuracy reward applies to (on a
 *       mixed set, general prompts have no checkable answer and would otherwise count as wrong);</li>
 *   <li>{@code language_consistency}: mean of the {@code language_consistency} reward over the chains
 *       of thought it scores, and {@code language_mixing_rate}: the share of them below
 *       {@code mixing_threshold};</li>
 *   <li>{@code reward_model_score}: mean of the reward-model rewards where they apply (general prompts);</li>
 *   <li>{@code source/<s>/n}, {@code source/<s>/reward}: per source of a {@code mix:} set.</li>
 * </ul>
 */
final class StageEval {
    private StageEval() {}

    /**
     * Eval options shared by the R1 stages ({@code eval:} key).
     */
    record Options(
            @Doc("completions per prompt; accuracy and the other rates are then means over all samples (pass@1 averaged over k, the R1 paper's metric), `n` counts prompts.")
            Integer numSamples,
            @Doc("sampling temperature (0 = greedy; needs > 0 when `num_samples` > 1).")
            Double temperature,
            @Doc("nucleus sampling (1.0 = off).")
            Double topP,
            @Doc("tokens generated at most.")
            Integer maxCompletionLength,
            @Doc("prompt tokens kept at most.")
            Integer maxPromptLength,
            @Doc("eval prompts used (0 = all).")
            Integer maxExamples,
            @Doc("a chain of thought with language consistency below this counts as mixed (`language_mixing_rate`).")
            Double mixingThreshold,
            @Doc(value = "reward deciding \"correct\".", unset = "`accuracy` if configured")
            String accuracyReward,
            @Doc(value = "reward deciding the format rate.", unset = "`format` if configured")
            String formatReward,
            @Doc("correct when the accuracy reward is ≥ this.")
            Double correctThreshold) {
        Options {
            if (numSamples == null) numSamples = 1;
            if (temperature == null) temperature = 0.0;
            if (topP == null) topP = 1.0;
            if (numSamples < 1) throw new IllegalArgumentException("eval.num_samples must be ≥ 1, got " + numSamples);
            if (temperature < 0) throw new IllegalArgumentException("eval.temperature must be ≥ 0 (0 = greedy), got " + temperature);
            if (numSamples > 1 && temperature == 0) {
                throw new IllegalArgumentException("eval.num_samples = " + numSamples + " needs a temperature > 0 (greedy gives identical samples)");
            }
            if (maxCompletionLength == null) maxCompletionLength = 256;
            if (maxPromptLength == null) maxPromptLength = 512;
            if (maxExamples == null) maxExamples = 0;
            if (mixingThreshold == null) mixingThreshold = 0.95;
            if (correctThreshold == null) correctThreshold = 1.0;
            if (maxCompletionLength < 1) throw new IllegalArgumentException("eval.max_completion_length must be ≥ 1, got " + maxCompletionLength);
            if (maxExamples < 0) throw new IllegalArgumentException("eval.max_examples must be ≥ 0 (0 = all), got " + maxExamples);
            if (mixingThreshold < 0 || mixingThreshold > 1) throw new IllegalArgumentException("eval.mixing_threshold must be in [0, 1], got " + mixingThreshold);
        }

        static Options defaults() {
            return new Options(null, null, null, null, null, null, null, null, null, null);
        }
    }

    /** Evaluates {@code modelDir} greedily on {@code data} with the stage's rewards and template. */
    static Map<String, Object> run(RunContext ctx, StageSpec s, Path modelDir, Dataset data, Options o) throws Exception {
        try (Tokenizer tok = ctx.tokenizer(modelDir); CompositeReward rewards = ctx.rewards(s);
             Rollouts rollouts = new Rollouts(tok, ctx.template(s), rewards, o.maxPromptLength(), true,
                     o.accuracyReward(), o.formatReward(), o.correctThreshold())) {
            Evaluator.Options eo = new Evaluator.Options(o.numSamples(), o.temperature(), 0, o.topP(), o.maxCompletionLength(), o.maxExamples(),
                    ctx.config().seed());
            // with a cluster: the same samples and scores, computed on the executors
            Evaluator.Result r = ctx.cluster().enabled()
                    ? ClusterEval.run(ctx, s, modelDir, rollouts, data, eo, o.maxPromptLength(), o.accuracyReward(), o.formatReward(),
                            o.correctThreshold())
                    : Evaluator.run(new Generator(ctx.onModelDevice(CausalLM.load(modelDir)), tok), rollouts, data, eo);
            return summary(r, rewards, rollouts.accuracyRewardName(), o.mixingThreshold(), o.numSamples());
        }
    }

    /** The eval file's content from scored samples ({@code k} per prompt): rates are means over samples. */
    static Map<String, Object> summary(Evaluator.Result r, CompositeReward rewards, String accuracyLabel, double mixingThreshold, int perPrompt) {
        List<Rollouts.Sample> all = r.samples();
        List<String> names = rewards.names();
        int acc = names.indexOf(accuracyLabel);
        int checked = 0, correct = 0, formatted = 0;
        double len = 0;
        for (Rollouts.Sample x : all) {
            len += x.tokens().length;
            if (acc >= 0 && x.rewardValues()[acc] == null) continue;
            checked++;
            if (x.correct()) correct++;
            if (x.formatted()) formatted++;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("accuracy", checked == 0 ? null : (double) correct / checked);
        out.put("format_rate", checked == 0 ? null : (double) formatted / checked);
        out.put("mean_length", all.isEmpty() ? null : len / all.size());
        out.put("n", all.size() / perPrompt);
        out.put("n_checked", checked / perPrompt);
        out.put("num_samples", perPrompt);
        // language consistency of the chains of thought, and the reward model where it applies
        List<Double> lang = new ArrayList<>(), rm = new ArrayList<>();
        for (int f = 0; f < names.size(); f++) {
            RewardFunction fn = rewards.members().get(f).function();
            RewardFunction base = fn instanceof SourceRoutedReward sr ? sr.inner() : fn;
            List<Double> into = "language_consistency".equals(base.name()) ? lang
                    : RewardRegistry.REWARD_MODEL.equals(base.name()) ? rm : null;
            if (into == null) continue;
            for (Rollouts.Sample x : all) if (x.rewardValues()[f] != null) into.add(x.rewardValues()[f]);
        }
        if (!lang.isEmpty()) {
            long mixed = lang.stream().filter(v -> v < mixingThreshold).count();
            out.put("language_consistency", mean(lang));
            out.put("language_mixing_rate", (double) mixed / lang.size());
        }
        if (!rm.isEmpty()) out.put("reward_model_score", mean(rm));
        // per source of a mixed set
        Map<String, double[]> bySource = new TreeMap<>();
        for (Rollouts.Sample x : all) {
            Object src = x.prompt().example().get(RunContext.SOURCE_COLUMN);
            if (src == null) continue;
            double[] a = bySource.computeIfAbsent(src.toString(), k -> new double[2]);
            a[0]++;
            a[1] += x.reward();
        }
        bySource.forEach((k, a) -> {
            out.put("source/" + k + "/n", (int) a[0] / perPrompt);
            out.put("source/" + k + "/reward", a[1] / a[0]);
        });
        r.metrics().forEach((k, v) -> {
            if (k.equals("accuracy") || k.equals("format_rate")) k = "all/" + k;
            out.putIfAbsent(k, v == null || v.isNaN() ? null : v);
        });
        return out;
    }

    private static double mean(List<Double> v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.size();
    }
}
