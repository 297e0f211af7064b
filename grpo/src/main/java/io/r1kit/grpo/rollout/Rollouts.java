package io.r1kit.grpo.rollout;

import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.FinishReason;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardBatchResult;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Sampling and scoring shared by the trainers and the evaluator: renders and tokenises prompts
 * (left-truncated to {@code maxPromptLength}, as TRL does), samples n completions per prompt,
 * scores them with the composite reward and marks each completion correct (accuracy reward ≥
 * threshold) and well-formatted (format reward ≥ 1, or the built-in R1-Zero format check when no
 * format reward is configured).
 */
public final class Rollouts implements AutoCloseable {

    /** A prompt ready for the model. */
    public record Prompt(Example example, String text, int[] ids) {}

    /**
     * One scored completion.
     *
     * @param group        index of its prompt in the batch
     * @param prompt       the prompt
     * @param tokens       generated ids (stop token included)
     * @param sampleLogprobs per-token log-probs under the sampling distribution
     * @param text         decoded completion
     * @param finishReason stop or length
     * @param reward       weighted sum of the rewards
     * @param rewardValues per reward (config order), null where a reward does not apply or failed
     * @param correct      accuracy reward ≥ threshold
     * @param formatted    format reward ≥ 1
     */
    public record Sample(int group, Prompt prompt, int[] tokens, float[] sampleLogprobs, String text,
                         FinishReason finishReason, double reward, Double[] rewardValues, boolean correct, boolean formatted) {
        public boolean truncated() {
            return finishReason == FinishReason.LENGTH;
        }

        /** Every reward returned null for this completion (each failed or timed out on it): it carries no signal. */
        public boolean unscorable() {
            for (Double v : rewardValues) if (v != null) return false;
            return rewardValues.length > 0;
        }

        /**
         * Puts the fields every samples file shares into {@code o}: {@code example_id}, {@code prompt},
         * {@code completion}, {@code reward} and {@code rewards: {name: value}} (null where a reward did not apply).
         */
        public void putCommonFields(com.fasterxml.jackson.databind.node.ObjectNode o, List<String> rewardNames) {
            o.put("example_id", prompt.example().id());
            o.put("prompt", prompt.text());
            o.put("completion", text);
            o.put("reward", reward);
            com.fasterxml.jackson.databind.node.ObjectNode rs = o.putObject("rewards");
            for (int f = 0; f < rewardNames.size(); f++) {
                Double v = rewardValues[f];
                if (v == null) rs.putNull(rewardNames.get(f)); else rs.put(rewardNames.get(f), v);
            }
        }
    }

    private final Tokenizer tokenizer;
    private final PromptTemplate template;
    private final CompositeReward rewards;
    private final int maxPromptLength;
    private final boolean addSpecialTokens;
    private final int accuracyIndex, formatIndex;
    private final double correctThreshold;
    private final RewardFunction builtinFormat;

    public Rollouts(Tokenizer tokenizer, PromptTemplate template, CompositeReward rewards, int maxPromptLength,
                    boolean addSpecialTokens, String accuracyReward, String formatReward, double correctThreshold) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.rewards = rewards;
        this.maxPromptLength = maxPromptLength;
        this.addSpecialTokens = addSpecialTokens;
        this.correctThreshold = correctThreshold;
        List<String> names = rewards.names();
        if (accuracyReward != null) {
            accuracyIndex = names.indexOf(accuracyReward);
            if (accuracyIndex < 0) throw new IllegalArgumentException("accuracy_reward '" + accuracyReward + "' is not one of the configured rewards " + names);
        } else {
            accuracyIndex = names.contains("accuracy") ? names.indexOf("accuracy") : 0;
        }
        if (formatReward != null) {
            formatIndex = names.indexOf(formatReward);
            if (formatIndex < 0) throw new IllegalArgumentException("format_reward '" + formatReward + "' is not one of the configured rewards " + names);
        } else {
            formatIndex = names.indexOf("format");
        }
        builtinFormat = formatIndex < 0 ? RewardRegistry.builtins().createByName("format", Map.of()) : null;
    }

    public List<String> rewardNames() {
        return rewards.names();
    }

    public String accuracyRewardName() {
        return rewards.names().get(accuracyIndex);
    }

    /** The format reward's name, or null when the built-in R1-Zero format check decides {@code formatted}. */
    public String formatRewardName() {
        return formatIndex < 0 ? null : rewards.names().get(formatIndex);
    }

    /** The accuracy a correct completion reaches. */
    public double correctThreshold() {
        return correctThreshold;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Renders and tokenises one example, keeping the last {@code maxPromptLength} tokens. */
    public Prompt prompt(Example e) {
        String text = template.render(e);
        int[] ids = tokenizer.encode(text, addSpecialTokens);
        if (ids.length == 0) throw new IllegalArgumentException("example '" + e.id() + "': the prompt tokenises to nothing");
        if (ids.length > maxPromptLength) ids = Arrays.copyOfRange(ids, ids.length - maxPromptLength, ids.length);
        return new Prompt(e, text, ids);
    }

    /** Samples n completions per prompt (prompt-major) and scores them. */
    public List<Sample> sampleAndScore(Generator generator, List<Prompt> prompts, int n, SamplingParams params, long[] nanos) {
        return sampleAndScore(generator, prompts, n, params, nanos, 0);
    }

    /**
     * {@link #sampleAndScore(Generator, List, int, SamplingParams, long[])} for the slice of a larger
     * batch that starts at its prompt {@code firstPrompt}: the samples are that batch's (see
     * {@link Generator#generate(List, int, SamplingParams, int)}), groups numbered within the slice.
     */
    public List<Sample> sampleAndScore(Generator generator, List<Prompt> prompts, int n, SamplingParams params, long[] nanos,
                                       int firstPrompt) {
        long t0 = System.nanoTime();
        List<int[]> ids = new ArrayList<>();
        for (Prompt p : prompts) ids.add(p.ids());
        List<Completion> cs = generator.generate(ids, n, params, firstPrompt);
        long t1 = System.nanoTime();
        List<Sample> out = score(prompts, n, cs);
        long t2 = System.nanoTime();
        if (nanos != null) {
            nanos[0] += t1 - t0;
            nanos[1] += t2 - t1;
        }
        return out;
    }

    /** Scores generated completions (prompt-major, n per prompt). */
    public List<Sample> score(List<Prompt> prompts, int n, List<Completion> cs) {
        List<io.r1kit.rewards.Completion> batch = new ArrayList<>();   // lint: fully qualified, model's Completion is imported
        for (int i = 0; i < cs.size(); i++) {
            Completion c = cs.get(i);
            Prompt p = prompts.get(i / n);
            String text = c.text() != null ? c.text() : tokenizer.decode(c.tokens(), true);
            batch.add(new io.r1kit.rewards.Completion(p.example().id(), p.text(), text, c.tokens(),   // lint: as above
                    c.finishReason().wireName(), p.example().columns()));
        }
        RewardBatchResult r = rewards.score(batch);
        List<Double> fmt = null;
        if (builtinFormat != null) {
            try {
                fmt = builtinFormat.score(batch);
            } catch (Exception e) {
                throw new IllegalStateException("built-in format check failed: " + e, e);
            }
        }
        List<Sample> out = new ArrayList<>();
        int nr = r.names().size();
        for (int i = 0; i < cs.size(); i++) {
            Completion c = cs.get(i);
            Double[] vals = new Double[nr];
            for (int f = 0; f < nr; f++) vals[f] = r.values().get(f).get(i);
            Double acc = vals[accuracyIndex];
            Double f = formatIndex >= 0 ? vals[formatIndex] : fmt.get(i);
            out.add(new Sample(i / n, prompts.get(i / n), c.tokens(), c.logprobs(), batch.get(i).text(), c.finishReason(),
                    r.totals()[i], vals, acc != null && acc >= correctThreshold, f != null && f >= 1.0));
        }
        return out;
    }

    @Override
    public void close() {
        if (builtinFormat instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // nothing to release for the built-in check
            }
        }
    }
}
