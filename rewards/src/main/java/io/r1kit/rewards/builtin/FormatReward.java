package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * The R1-Zero template: 1 when the completion is exactly {@code <think>…</think>} followed by
 * {@code <answer>…</answer>} (whitespace tolerated around and between, nothing after), else 0.
 * When the prompt already ends with {@code <think>} (as R1 chat templates do) the completion may
 * start inside the think block.
 *
 * <p>Params: {@code think_tag} (think), {@code answer_tag} (answer), {@code think_in_prompt}
 * (auto | true | false; auto checks whether the prompt ends with the opening tag), {@code tag_count}
 * (false; true gives {@code per_tag} (0.25) partial credit per well-placed tag, as {@link TagCountReward}).
 */
public final class FormatReward implements RewardFunction {

    private final String thinkOpen, thinkClose, answerOpen, answerClose;
    private final String thinkInPrompt;
    private final TagCountReward partial;

    public FormatReward(RewardParams p) {
        p.requireOnly("think_tag", "answer_tag", "think_in_prompt", "tag_count", "per_tag");
        // tag_count: true gives partial credit per well-placed tag instead of all-or-nothing
        partial = p.getBoolean("tag_count", false)
                ? new TagCountReward(new RewardParams(p.owner(), java.util.Map.of("per_tag", p.getDouble("per_tag", 0.25),
                        "think_tag", p.getString("think_tag", "think"), "answer_tag", p.getString("answer_tag", "answer"),
                        "think_in_prompt", p.getString("think_in_prompt", "auto"))))
                : null;
        String t = p.getString("think_tag", "think"), a = p.getString("answer_tag", "answer");
        thinkOpen = "<" + t + ">";
        thinkClose = "</" + t + ">";
        answerOpen = "<" + a + ">";
        answerClose = "</" + a + ">";
        thinkInPrompt = p.getString("think_in_prompt", "auto");
        if (!List.of("auto", "true", "false").contains(thinkInPrompt)) throw p.bad("think_in_prompt", "auto, true or false", thinkInPrompt);
    }

    @Override
    public String name() {
        return "format";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) out.add(partial != null ? partial.score(c) : matches(c) ? 1.0 : 0.0);
        return out;
    }

    boolean matches(Completion c) {
        boolean opened = switch (thinkInPrompt) {
            case "true" -> true;
            case "false" -> false;
            default -> c.prompt().stripTrailing().endsWith(thinkOpen);
        };
        String s = c.text().strip();
        if (opened && !s.startsWith(thinkOpen)) s = thinkOpen + s;
        if (!s.startsWith(thinkOpen)) return false;
        int tc = s.indexOf(thinkClose);
        if (tc < 0) return false;
        String think = s.substring(thinkOpen.length(), tc);
        String rest = s.substring(tc + thinkClose.length()).strip();
        if (!rest.startsWith(answerOpen) || !rest.endsWith(answerClose)) return false;
        String answer = rest.substring(answerOpen.length(), rest.length() - answerClose.length());
        // each tag exactly once: no tag inside either block
        for (String tag : List.of(thinkOpen, thinkClose, answerOpen, answerClose)) {
            if (think.contains(tag) || answer.contains(tag)) return false;
        }
        return !answer.isBlank();
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "format"; }
        public String description() { return "1 if <think>...</think><answer>...</answer> and nothing else, else 0"; }
        public RewardFunction create(RewardParams p) { return new FormatReward(p); }
    }

}
