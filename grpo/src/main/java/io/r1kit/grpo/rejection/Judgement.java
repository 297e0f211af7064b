package io.r1kit.grpo.rejection;

import java.util.Map;

/**
 * A judge's decision on one candidate.
 *
 * @param correct whether the candidate counts as correct (and well-formatted when that is required)
 * @param reason  null when accepted, else the named rejection reason ({@code incorrect}, {@code unformatted},
 *                {@code unparseable_verdict})
 * @param rewards reward values by label (rule judge; null values kept), or empty
 * @param verdict the generative judge's raw output, or null
 */
public record Judgement(boolean correct, String reason, Map<String, Double> rewards, String verdict) {
    public static Judgement accept(Map<String, Double> rewards) {
        return new Judgement(true, null, rewards, null);
    }
}
