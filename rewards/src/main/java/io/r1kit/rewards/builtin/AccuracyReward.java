package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardDiagnostics;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import io.r1kit.rewards.math.MathVerifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Math accuracy: extracts the final answer of the completion, normalises it and compares it with
 * the gold answer column ({@link MathVerifier}). Unparseable answers score {@code wrong} and are
 * counted as parse failures ({@code rewards/accuracy/parse_failures}), not errors. A completion
 * without the answer column gets null (does not apply).
 *
 * <p>Params: {@code answer_column} (answer), {@code correct} (1.0), {@code wrong} (0.0).
 */
public final class AccuracyReward implements RewardFunction, RewardDiagnostics {

    private final String column;
    private final double correct, wrong;
    private final AtomicLong parseFailures = new AtomicLong();

    public AccuracyReward(RewardParams p) {
        p.requireOnly("answer_column", "correct", "wrong");
        column = p.getString("answer_column", "answer");
        correct = p.getDouble("correct", 1.0);
        wrong = p.getDouble("wrong", 0.0);
    }

    @Override
    public String name() {
        return "accuracy";
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
            MathVerifier.Verdict v = MathVerifier.verify(c.text(), gold);
            if (!v.parsed()) parseFailures.incrementAndGet();
            out.add(v.correct() ? correct : wrong);
        }
        return out;
    }

    @Override
    public Map<String, Long> drainCounters() {
        return Map.of("parse_failures", parseFailures.getAndSet(0));
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "accuracy"; }
        public String description() { return "1 if the final answer equals the 'answer' column (math-aware), else 0"; }
        public RewardFunction create(RewardParams p) { return new AccuracyReward(p); }
    }
}
