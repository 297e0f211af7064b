package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import io.r1kit.rewards.math.MathVerifier;
import java.util.ArrayList;
import java.util.List;

/**
 * Cosine-scaled length reward ("Demystifying Long Chain-of-Thought Reasoning in LLMs", Yeo et al.
 * 2025): correct answers earn more when shorter, wrong answers are punished less when longer.
 * With {@code t = min(len, max_length) / max_length},
 * {@code r = lo + (hi - lo) * (1 + cos(pi t)) / 2} where (lo, hi) is
 * ({@code min_value_correct}, {@code max_value_correct}) for a correct answer and
 * ({@code max_value_wrong}, {@code min_value_wrong}) for a wrong one. Past {@code max_length} the
 * reward is {@code exceed_penalty} when it is set. Correctness is the math verifier against the
 * answer column; null when the column is missing.
 *
 * <p>Params (defaults as in open-r1): {@code min_value_correct} 0.5, {@code max_value_correct} 1.0,
 * {@code min_value_wrong} -1.0, {@code max_value_wrong} -0.5, {@code max_length} 1000,
 * {@code exceed_penalty} (unset), {@code answer_column} (answer). Length is in tokens (the token
 * ids; whitespace-separated words when ids are not known).
 */
public final class CosineLengthReward implements RewardFunction {

    private final double minCorrect, maxCorrect, minWrong, maxWrong;
    private final int maxLength;
    private final Double exceedPenalty;
    private final String column;
    private final String name;

    public CosineLengthReward(RewardParams p, String name) {
        p.requireOnly("min_value_correct", "max_value_correct", "min_value_wrong", "max_value_wrong", "max_length",
                "exceed_penalty", "answer_column");
        this.name = name;
        minCorrect = p.getDouble("min_value_correct", 0.5);
        maxCorrect = p.getDouble("max_value_correct", 1.0);
        minWrong = p.getDouble("min_value_wrong", -1.0);
        maxWrong = p.getDouble("max_value_wrong", -0.5);
        maxLength = p.getInt("max_length", 1000);
        if (maxLength <= 0) throw p.bad("max_length", "a positive integer", maxLength);
        exceedPenalty = p.has("exceed_penalty") ? p.getDouble("exceed_penalty", 0) : null;
        column = p.getString("answer_column", "answer");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) {
            String gold = c.columnString(column);
            if (gold == null) {
                out.add(null);
                continue;
            }
            boolean correct = MathVerifier.verify(c.text(), gold).correct();
            out.add(value(c.lengthInTokens(), correct));
        }
        return out;
    }

    /** Reward for a completion of {@code len} tokens. */
    public double value(int len, boolean correct) {
        if (len > maxLength && exceedPenalty != null) return exceedPenalty;
        double t = Math.min(len, maxLength) / (double) maxLength;
        double cos = Math.cos(Math.PI * t);
        double lo = correct ? minCorrect : maxWrong, hi = correct ? maxCorrect : minWrong;
        return lo + 0.5 * (hi - lo) * (1.0 + cos);
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "cosine"; }
        public String description() { return "cosine-scaled length reward (short correct, long wrong)"; }
        public RewardFunction create(RewardParams p) { return new CosineLengthReward(p, "cosine"); }
    }

    /** Same reward under the name {@code length}. */
    public static final class LengthProvider implements RewardProvider {
        public String name() { return "length"; }
        public String description() { return "alias of cosine"; }
        public RewardFunction create(RewardParams p) { return new CosineLengthReward(p, "length"); }
    }
}
