package io.r1kit.rewards;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SourceRoutedRewardTest {

    /** Scores each completion by its text length and records what it was asked to score. */
    static final class Recording implements RewardFunction {
        final List<String> seen = new ArrayList<>();

        @Override public String name() { return "rec"; }

        @Override public List<Double> score(List<Completion> batch) {
            List<Double> out = new ArrayList<>();
            for (Completion c : batch) {
                seen.add(c.text());
                out.add((double) c.text().length());
            }
            return out;
        }
    }

    private static Completion c(String text, String source) {
        return source == null ? Completion.of(text, Map.of()) : Completion.of(text, Map.of("source", source));
    }

    @Test
    void onlyTheListedSourcesAreScoredTheOthersGetNull() throws Exception {
        Recording inner = new Recording();
        SourceRoutedReward r = new SourceRoutedReward(inner, Set.of("general"), "source");
        List<Double> got = r.score(List.of(c("a", "reasoning"), c("bb", "general"), c("ccc", null), c("dddd", "general")));
        assertEquals(Arrays.asList(null, 2.0, null, 4.0), got);
        assertEquals(List.of("bb", "dddd"), inner.seen, "the wrapped reward never sees the other sources");
        assertEquals("rec", r.name());
        // nothing applies: the wrapped reward is not called at all
        inner.seen.clear();
        assertEquals(Arrays.asList(null, null), r.score(List.of(c("a", "reasoning"), c("b", null))));
        assertEquals(List.of(), inner.seen);
        assertThrows(RewardConfigException.class, () -> new SourceRoutedReward(inner, Set.of(), "source"));
    }

    @Test
    void theWeightedSumLeavesOutRewardsThatDoNotApply() {
        RewardFunction one = new RewardFunction() {
            @Override public String name() { return "one"; }
            @Override public List<Double> score(List<Completion> b) { return b.stream().map(x -> 1.0).toList(); }
        };
        try (CompositeReward comp = new CompositeReward(List.of(
                new CompositeReward.Member("rules", new SourceRoutedReward(one, Set.of("reasoning"), "source"), 2.0, Duration.ofSeconds(5)),
                new CompositeReward.Member("rm", new SourceRoutedReward(new Recording(), Set.of("general"), "source"), 0.5, Duration.ofSeconds(5))))) {
            RewardBatchResult r = comp.score(List.of(c("xy", "reasoning"), c("wxyz", "general")));
            assertEquals(2.0, r.totals()[0], 1e-12);
            assertEquals(2.0, r.totals()[1], 1e-12);   // 0.5 · 4
            assertNull(r.value("rm", 0));
            assertNull(r.value("rules", 1));
        }
    }
}
