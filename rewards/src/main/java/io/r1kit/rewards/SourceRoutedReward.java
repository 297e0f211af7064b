package io.r1kit.rewards;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A reward that applies only to examples from some sources: DeepSeek-R1's all-scenario RL scores
 * reasoning prompts with rule rewards and general prompts with a reward model. Each example carries
 * its source in a column ({@code source} by default, set by a {@code mix:} data set); completions of
 * other sources get {@code null} ("does not apply"), which the weighted sum leaves out, as it does
 * for {@code accuracy} on an example without an answer. Only the matching completions are passed to
 * the wrapped function, so an expensive reward (a reward model) never runs on the others.
 */
public final class SourceRoutedReward implements RewardFunction, AutoCloseable {
    private final RewardFunction inner;
    private final Set<String> sources;
    private final String column;

    public SourceRoutedReward(RewardFunction inner, Set<String> sources, String column) {
        if (sources.isEmpty()) throw new RewardConfigException("reward '" + inner.name() + "': 'sources' must not be empty");
        this.inner = inner;
        this.sources = Set.copyOf(sources);
        this.column = column;
    }

    public RewardFunction inner() {
        return inner;
    }

    public Set<String> sources() {
        return sources;
    }

    @Override
    public String name() {
        return inner.name();
    }

    /** Whether this reward applies to a completion (its example's source column is one of the sources). */
    public boolean applies(Completion c) {
        String s = c.columnString(column);
        return s != null && sources.contains(s);
    }

    @Override
    public List<Double> score(List<Completion> batch) throws Exception {
        List<Completion> sub = new ArrayList<>();
        int[] where = new int[batch.size()];
        Arrays.fill(where, -1);
        for (int i = 0; i < batch.size(); i++) {
            if (applies(batch.get(i))) {
                where[i] = sub.size();
                sub.add(batch.get(i));
            }
        }
        List<Double> got = sub.isEmpty() ? List.of() : inner.score(sub);
        if (got.size() != sub.size()) {
            throw new IllegalStateException("reward '" + inner.name() + "' returned " + got.size() + " scores for " + sub.size() + " completions");
        }
        List<Double> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) out.add(where[i] < 0 ? null : got.get(where[i]));
        return out;
    }

    @Override
    public void close() throws Exception {
        if (inner instanceof AutoCloseable c) c.close();
    }
}
