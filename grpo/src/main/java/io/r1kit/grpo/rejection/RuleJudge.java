package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardBatchResult;
import java.util.ArrayList;
import java.util.List;

/**
 * The rule judge: a {@link CompositeReward} scores the candidates; correct = the accuracy reward ≥
 * {@code threshold} (a null accuracy — no reference answer, or a reward failure — is not correct);
 * with {@code requireFormat}, the format reward must also be ≥ 1 (reason {@code unformatted}).
 */
public final class RuleJudge implements Judge {
    private final CompositeReward rewards;
    private final String accuracyReward, formatReward;
    private final double threshold;
    private final boolean requireFormat;

    public RuleJudge(CompositeReward rewards, String accuracyReward, double threshold, String formatReward, boolean requireFormat) {
        if (!rewards.names().contains(accuracyReward))
            throw new IllegalArgumentException("accuracy_reward '" + accuracyReward + "' is not one of the configured rewards " + rewards.names());
        if (requireFormat && !rewards.names().contains(formatReward))
            throw new IllegalArgumentException("require_format needs format_reward '" + formatReward + "' among the configured rewards "
                    + rewards.names());
        this.rewards = rewards;
        this.accuracyReward = accuracyReward;
        this.threshold = threshold;
        this.formatReward = formatReward;
        this.requireFormat = requireFormat;
    }

    @Override
    public List<Judgement> judge(Example e, List<Candidate> cs) {
        List<Completion> batch = new ArrayList<>();
        for (Candidate c : cs) batch.add(new Completion(e.id(), c.promptText(), c.completion(), c.tokenIds(), c.finishReason(), e.columns()));
        RewardBatchResult r = rewards.score(batch);
        List<Judgement> out = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            Double acc = r.value(accuracyReward, i);
            boolean correct = acc != null && acc >= threshold;
            String reason = correct ? null : "incorrect";
            if (correct && requireFormat) {
                Double f = r.value(formatReward, i);
                if (f == null || f < 1.0) {
                    correct = false;
                    reason = "unformatted";
                }
            }
            out.add(new Judgement(correct, reason, r.perCompletion(i), null));
        }
        return out;
    }
}
