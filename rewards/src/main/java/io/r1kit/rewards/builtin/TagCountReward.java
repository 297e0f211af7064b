package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * Partial credit for the R1-Zero template: {@code per_tag} (0.25) for each of
 * {@code <think>}, {@code </think>}, {@code <answer>}, {@code </answer>} that occurs exactly once
 * and after the tag before it; {@code </answer>} counts only when nothing follows it. A completion
 * in the exact template scores 1.0. The opening think tag counts as present when the prompt opened
 * the think block: {@code think_in_prompt} auto (the prompt ends with the tag), true or false, as
 * {@link FormatReward} reads it.
 */
public final class TagCountReward implements RewardFunction {

    private final double perTag;
    private final String[] tags;
    private final String thinkInPrompt;

    public TagCountReward(RewardParams p) {
        p.requireOnly("per_tag", "think_tag", "answer_tag", "think_in_prompt");
        perTag = p.getDouble("per_tag", 0.25);
        String t = p.getString("think_tag", "think"), a = p.getString("answer_tag", "answer");
        tags = new String[] {"<" + t + ">", "</" + t + ">", "<" + a + ">", "</" + a + ">"};
        thinkInPrompt = p.getString("think_in_prompt", "auto");
        if (!List.of("auto", "true", "false").contains(thinkInPrompt)) throw p.bad("think_in_prompt", "auto, true or false", thinkInPrompt);
    }

    @Override
    public String name() {
        return "tag_count";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) out.add(score(c));
        return out;
    }

    double score(Completion c) {
        String s = c.text();
        boolean opened = switch (thinkInPrompt) {
            case "true" -> true;
            case "false" -> false;
            default -> c.prompt().stripTrailing().endsWith(tags[0]);
        };
        if (opened && !s.contains(tags[0])) s = tags[0] + s;
        double total = 0;
        int prev = -1;
        for (int k = 0; k < tags.length; k++) {
            int first = s.indexOf(tags[k]);
            boolean once = first >= 0 && s.indexOf(tags[k], first + 1) < 0;
            boolean ordered = first > prev;
            boolean placed = switch (k) {
                case 0 -> s.substring(0, Math.max(first, 0)).isBlank();
                case 3 -> first >= 0 && s.substring(first + tags[k].length()).isBlank();
                default -> true;
            };
            if (once && ordered && placed) total += perTag;
            if (first >= 0) prev = Math.max(prev, first);
        }
        return total;
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "tag_count"; }
        public String description() { return "per_tag credit for each well-placed template tag"; }
        public RewardFunction create(RewardParams p) { return new TagCountReward(p); }
    }
}
