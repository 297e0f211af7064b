package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * N-gram repetition penalty (as in open-r1 / "Demystifying Long CoT"): with {@code N} n-grams of
 * which {@code U} are distinct, the reward is {@code max_penalty * (1 - U / N)}; 0 for text
 * shorter than one n-gram. Params: {@code ngram_size} (3), {@code max_penalty} (-1.0, must be
 * {@code <= 0}), {@code unit} (words | tokens; tokens use the token ids and fall back to words).
 */
public final class RepetitionReward implements RewardFunction {

    private final int n;
    private final double maxPenalty;
    private final boolean tokens;

    public RepetitionReward(RewardParams p) {
        p.requireOnly("ngram_size", "max_penalty", "unit");
        n = p.getInt("ngram_size", 3);
        if (n < 1) throw p.bad("ngram_size", "an integer >= 1", n);
        maxPenalty = p.getDouble("max_penalty", -1.0);
        if (maxPenalty > 0) throw p.bad("max_penalty", "<= 0 (it is a penalty)", maxPenalty);
        String unit = p.getString("unit", "words");
        if (!unit.equals("words") && !unit.equals("tokens")) throw p.bad("unit", "words or tokens", unit);
        tokens = unit.equals("tokens");
    }

    @Override
    public String name() {
        return "repetition";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) {
            if (tokens && c.tokenIds().length > 0) out.add(penalty(c.tokenIds()));
            else {
                String t = c.text().toLowerCase().strip();
                out.add(penalty(t.isEmpty() ? new String[0] : t.split("\\s+")));
            }
        }
        return out;
    }

    double penalty(String[] words) {
        if (words.length < n) return 0.0;
        Set<List<String>> seen = new HashSet<>();
        int total = 0;
        for (int i = 0; i + n <= words.length; i++) {
            seen.add(Arrays.asList(Arrays.copyOfRange(words, i, i + n)));
            total++;
        }
        return maxPenalty * (1.0 - seen.size() / (double) total) + 0.0; // + 0.0: no -0.0
    }

    double penalty(int[] ids) {
        if (ids.length < n) return 0.0;
        Set<List<Integer>> seen = new HashSet<>();
        int total = 0;
        for (int i = 0; i + n <= ids.length; i++) {
            List<Integer> g = new ArrayList<>(n);
            for (int k = 0; k < n; k++) g.add(ids[i + k]);
            seen.add(g);
            total++;
        }
        return maxPenalty * (1.0 - seen.size() / (double) total) + 0.0; // + 0.0: no -0.0
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "repetition"; }
        public String description() { return "n-gram repetition penalty in [max_penalty, 0]"; }
        public RewardFunction create(RewardParams p) { return new RepetitionReward(p); }
    }
}
