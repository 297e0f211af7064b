package io.r1kit.grpo.rm;

import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import io.r1kit.rewards.RewardRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code reward_model} reward: a trained {@link RewardModel} scores each completion.
 *
 * <p>What is scored ({@link #scoredText}):
 * <ul>
 *   <li>{@code scope: full} — {@code prompt + completion}, exactly as the policy saw and wrote them;</li>
 *   <li>{@code scope: summary} — R1's helpfulness reward looks only at the final summary: the prompt
 *       without a trailing think prefill ({@code <think>} and the whitespace after it), followed by the
 *       completion's text after the reasoning block with leading whitespace removed. The reasoning
 *       block ends at the last {@code </think>} ({@code think_close}), or, in the cold-start format
 *       {@code |special_token|reasoning|special_token|summary}, after the second occurrence of
 *       {@code special_token}. A completion with neither is all summary; one with an opening
 *       {@code <think>} that never closes has an empty summary (the reasoning did not finish).</li>
 * </ul>
 * Params (defaults): {@code path} (required: the reward model directory, with tokenizer files),
 * {@code scope} (full | summary; full), {@code batch_size} (16), {@code normalize} (false: true gives
 * (score − mean)/std with the held-out mean/std stored in the model's config.json, or the {@code mean} /
 * {@code std} params when given), {@code mean}, {@code std}, {@code think_open} (&lt;think&gt;),
 * {@code think_close} (&lt;/think&gt;), {@code special_token} (|special_token|).
 */
public final class RewardModelReward implements RewardFunction {

    public enum Scope { FULL, SUMMARY }

    private final RewardModel model;
    private final Tokenizer tokenizer;
    private final Scope scope;
    private final int batchSize;
    private final double mean, std;
    private final String thinkOpen, thinkClose, specialToken;

    /** From a model already in memory (tests, a trainer that just finished); no normalisation when mean/std are NaN. */
    public RewardModelReward(RewardModel model, Tokenizer tokenizer, Scope scope, int batchSize, double mean, double std,
                             String thinkOpen, String thinkClose, String specialToken) {
        if (batchSize < 1) throw new IllegalArgumentException("reward_model: batch_size must be ≥ 1, got " + batchSize);
        if (Double.isFinite(std) && std <= 0) throw new IllegalArgumentException("reward_model: std must be > 0, got " + std);
        this.model = model;
        this.tokenizer = tokenizer;
        this.scope = scope;
        this.batchSize = batchSize;
        this.mean = mean;
        this.std = std;
        this.thinkOpen = thinkOpen;
        this.thinkClose = thinkClose;
        this.specialToken = specialToken;
    }

    /** From YAML params (see the class comment). */
    public static RewardModelReward create(RewardParams p) {
        p.requireOnly("path", "scope", "batch_size", "normalize", "mean", "std", "think_open", "think_close", "special_token");
        if (!p.has("path")) throw new RewardConfigException("reward 'reward_model': param 'path' (the reward model directory) is required");
        Path dir = Path.of(p.getString("path", null));
        String sc = p.getString("scope", "full");
        Scope scope = switch (sc) {
            case "full" -> Scope.FULL;
            case "summary" -> Scope.SUMMARY;
            default -> throw p.bad("scope", "full or summary", sc);
        };
        RewardModel m;
        Tokenizer tok;
        try {
            m = RewardModel.load(dir);
            if (!Files.exists(dir.resolve("tokenizer.json")))
                throw new RewardConfigException("reward 'reward_model': " + dir + " has no tokenizer.json (the reward model directory "
                        + "must carry the tokenizer it was trained with)");
            tok = HfTokenizer.load(dir);
        } catch (IOException e) {
            throw new RewardConfigException("reward 'reward_model': cannot load the reward model from '" + dir + "': " + e.getMessage(), e);
        }
        boolean normalize = p.getBoolean("normalize", false);
        double mean = Double.NaN, std = Double.NaN;
        if (normalize) {
            mean = p.has("mean") ? p.getDouble("mean", 0) : m.scoreMean();
            std = p.has("std") ? p.getDouble("std", 1) : m.scoreStd();
            if (!Double.isFinite(mean) || !Double.isFinite(std) || std <= 0)
                throw new RewardConfigException("reward 'reward_model': normalize is on but " + dir + "/config.json has no held-out "
                        + "score_mean/score_std (train with an eval set) and params 'mean'/'std' are not given (std must be > 0)");
        } else if (p.has("mean") || p.has("std")) {
            throw new RewardConfigException("reward 'reward_model': params 'mean'/'std' need 'normalize: true'");
        }
        return new RewardModelReward(m, tok, scope, p.getInt("batch_size", 16), mean, std, p.getString("think_open", "<think>"),
                p.getString("think_close", "</think>"), p.getString("special_token", "|special_token|"));
    }

    @Override
    public String name() {
        return RewardRegistry.REWARD_MODEL;
    }

    /** The (prompt part, response part) the model scores for this completion. */
    public String[] scoredText(Completion c) {
        if (scope == Scope.FULL) return new String[] {c.prompt(), c.text()};
        return new String[] {stripPrefill(c.prompt(), thinkOpen), summary(c.text(), thinkOpen, thinkClose, specialToken)};
    }

    /** The prompt without a trailing {@code thinkOpen} (+ whitespace after it). */
    public static String stripPrefill(String prompt, String thinkOpen) {
        String t = prompt.stripTrailing();
        return t.endsWith(thinkOpen) ? prompt.substring(0, t.length() - thinkOpen.length()) : prompt;
    }

    /**
     * The summary of a completion: the text after the last {@code thinkClose}; else after the second
     * {@code specialToken}; else (no reasoning block) the whole completion; an unclosed
     * {@code thinkOpen} gives "". Leading whitespace is removed.
     */
    public static String summary(String text, String thinkOpen, String thinkClose, String specialToken) {
        int close = text.lastIndexOf(thinkClose);
        if (close >= 0) return text.substring(close + thinkClose.length()).stripLeading();
        int first = specialToken.isEmpty() ? -1 : text.indexOf(specialToken);
        if (first >= 0) {
            int second = text.indexOf(specialToken, first + specialToken.length());
            return second < 0 ? "" : text.substring(second + specialToken.length()).stripLeading();
        }
        if (text.contains(thinkOpen)) return "";
        return text.stripLeading();
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<int[]> rows = new ArrayList<>(batch.size());
        for (Completion c : batch) {
            String[] t = scoredText(c);
            rows.add(model.encode(tokenizer, t[0], t[1]));
        }
        float[] s = model.score(rows, batchSize);
        List<Double> out = new ArrayList<>(s.length);
        boolean norm = Double.isFinite(mean) && Double.isFinite(std);
        for (float v : s) out.add(norm ? (v - mean) / std : (double) v);
        return out;
    }

    /** ServiceLoader registration of the name {@code reward_model}. */
    public static final class Provider implements RewardProvider {
        @Override public String name() { return RewardRegistry.REWARD_MODEL; }
        @Override public String description() { return "a trained reward model scores prompt + completion (or only the summary)"; }
        @Override public RewardFunction create(RewardParams params) { return RewardModelReward.create(params); }
    }
}
