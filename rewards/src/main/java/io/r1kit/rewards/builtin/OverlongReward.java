package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.util.ArrayList;
import java.util.List;

/**
 * DAPO's soft overlong punishment. With {@code L_max = max_length} and {@code L_cache = buffer_length}:
 * 0 up to {@code L_max - L_cache} tokens, then a linear ramp to {@code -penalty_factor} at
 * {@code L_max}, and {@code -penalty_factor} beyond. Params: {@code max_length} (required),
 * {@code buffer_length} (default max_length / 4), {@code penalty_factor} (1.0). Length is in
 * tokens (token ids; whitespace words when not known).
 */
public final class OverlongReward implements RewardFunction {

    private final int maxLength, buffer;
    private final double factor;

    public OverlongReward(RewardParams p) {
        p.requireOnly("max_length", "buffer_length", "penalty_factor");
        if (!p.has("max_length")) throw p.bad("max_length", "set (the generation length limit in tokens)", "nothing");
        maxLength = p.getInt("max_length", 0);
        buffer = p.getInt("buffer_length", maxLength / 4);
        factor = p.getDouble("penalty_factor", 1.0);
        if (maxLength <= 0) throw p.bad("max_length", "a positive integer", maxLength);
        if (buffer <= 0 || buffer > maxLength) throw p.bad("buffer_length", "in 1..max_length", buffer);
    }

    @Override
    public String name() {
        return "overlong";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) out.add(value(c.lengthInTokens()));
        return out;
    }

    public double value(int len) {
        int free = maxLength - buffer;
        if (len <= free) return 0.0;
        if (len <= maxLength) return (free - len) / (double) buffer * factor;
        return -factor;
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "overlong"; }
        public String description() { return "DAPO soft overlong punishment"; }
        public RewardFunction create(RewardParams p) { return new OverlongReward(p); }
    }
}
