package com.example.rewards;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Example custom reward: 1.0 when the text inside <answer>...</answer> is at most max_chars long
 * (a bare value, not a paragraph), 0.0 when it is longer, null when there is no <answer> at all
 * (the format reward already handles that case).
 *
 * Build and install:
 *   javac -cp <r1kit-rewards jar> -d build ConciseAnswerReward.java
 *   jar cf plugins/concise-answer.jar -C build .
 * and use it from YAML:  - {class: com.example.rewards.ConciseAnswerReward, weight: 0.2, params: {max_chars: 20}}
 */
public final class ConciseAnswerReward implements RewardFunction {

    private static final Pattern ANSWER = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);

    private final int maxChars;

    public ConciseAnswerReward(RewardParams params) {
        params.requireOnly("max_chars");
        maxChars = params.getInt("max_chars", 20);
        if (maxChars < 1) throw params.bad("max_chars", "a positive integer", maxChars);
    }

    @Override
    public String name() {
        return "concise_answer";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) {
            Matcher m = ANSWER.matcher(c.text());
            String last = null;
            while (m.find()) last = m.group(1).strip();
            out.add(last == null ? null : last.length() <= maxChars ? 1.0 : 0.0);
        }
        return out;
    }
}
