package io.r1kit.rewards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Weighted sum, nulls, per-function metrics, error isolation and timeouts, registry errors. */
class CompositeRewardTest {

    /** Returns a fixed list. */
    record Fixed(String name, List<Double> values) implements RewardFunction {
        public List<Double> score(List<Completion> batch) {
            return values.subList(0, batch.size());
        }
    }

    private static List<Completion> batch(String... texts) {
        List<Completion> out = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) out.add(new Completion("ex" + i, "", texts[i], null, "stop", Map.of()));
        return out;
    }

    @Test
    void weightedSumLeavesNullsOut() {
        List<Double> a = new ArrayList<>(List.of(1.0, 0.0, 1.0));
        List<Double> b = new ArrayList<>();
        b.add(0.5);
        b.add(null);
        b.add(null);
        try (CompositeReward c = new CompositeReward(List.of(
                new CompositeReward.Member("a", new Fixed("a", a), 2.0, Duration.ofSeconds(5)),
                new CompositeReward.Member("b", new Fixed("b", b), 0.5, Duration.ofSeconds(5))))) {
            RewardBatchResult r = c.score(batch("x", "y", "z"));
            assertEquals(2.25, r.totals()[0], 1e-12);
            assertEquals(0.0, r.totals()[1], 1e-12);
            assertEquals(2.0, r.totals()[2], 1e-12);
            assertNull(r.value("b", 1));
            Map<String, Double> m = r.metrics();
            assertEquals(2.0 / 3.0, m.get("rewards/a/mean"), 1e-12);
            assertEquals(Math.sqrt(1.0 / 3.0), m.get("rewards/a/std"), 1e-12); // sample std of {1, 0, 1}
            assertEquals(0.5, m.get("rewards/b/mean"), 1e-12, "nulls are not averaged in");
            assertEquals(0.0, m.get("rewards/b/std"), 1e-12);
            assertEquals(0.0, m.get("rewards/a/errors"));
            assertEquals((2.25 + 0 + 2) / 3, m.get("reward"), 1e-12);
            assertTrue(m.containsKey("reward_std"));
        }
    }

    @Test
    void throwingFunctionOnlyNullsTheFailingCompletions() {
        RewardFunction flaky = new RewardFunction() {
            public String name() { return "flaky"; }
            public List<Double> score(List<Completion> b) {
                List<Double> out = new ArrayList<>();
                for (Completion c : b) {
                    if (c.text().equals("boom")) throw new IllegalStateException("cannot score " + c.exampleId());
                    out.add(1.0);
                }
                return out;
            }
        };
        try (CompositeReward c = new CompositeReward(List.of(new CompositeReward.Member("flaky", flaky, 1.0, Duration.ofSeconds(5))))) {
            RewardBatchResult r = c.score(batch("ok", "boom", "ok"));
            assertEquals(1.0, r.value("flaky", 0));
            assertNull(r.value("flaky", 1));
            assertEquals(1.0, r.value("flaky", 2));
            assertEquals(1.0, r.metrics().get("rewards/flaky/errors"));
            // the run goes on: next batch is fine
            RewardBatchResult r2 = c.score(batch("ok"));
            assertEquals(0.0, r2.metrics().get("rewards/flaky/errors"));
        }
    }

    @Test
    void slowFunctionTimesOutAndOthersStillScore() {
        RewardFunction slow = new RewardFunction() {
            public String name() { return "slow"; }
            public List<Double> score(List<Completion> b) throws Exception {
                Thread.sleep(10_000);
                return List.of(1.0, 1.0);
            }
        };
        try (CompositeReward c = new CompositeReward(List.of(
                new CompositeReward.Member("slow", slow, 1.0, Duration.ofMillis(200)),
                new CompositeReward.Member("ok", new Fixed("ok", List.of(1.0, 0.0)), 1.0, Duration.ofSeconds(5))))) {
            long t0 = System.nanoTime();
            RewardBatchResult r = c.score(batch("a", "b"));
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "did not wait for the slow function");
            assertNull(r.value("slow", 0));
            assertEquals(2.0, r.metrics().get("rewards/slow/errors"));
            assertEquals(1.0, r.totals()[0], 1e-12);
        }
    }

    @Test
    void wrongSizeAndNaNAreErrors() {
        List<Double> withNaN = List.of(Double.NaN, 1.0);
        try (CompositeReward c = new CompositeReward(List.of(
                new CompositeReward.Member("nan", new Fixed("nan", withNaN), 1.0, Duration.ofSeconds(5))))) {
            RewardBatchResult r = c.score(batch("a", "b"));
            assertNull(r.value("nan", 0));
            assertEquals(1.0, r.value("nan", 1));
            assertEquals(1.0, r.metrics().get("rewards/nan/errors"));
        }
    }

    @Test
    void registryFindsBuiltinsAndExplainsUnknownNames() {
        RewardRegistry reg = RewardRegistry.builtins();
        assertTrue(reg.names().containsAll(List.of("accuracy", "format", "tag_count", "countdown", "language_consistency",
                "length", "cosine", "repetition", "overlong", "command")), reg.names().toString());
        RewardConfigException e = assertThrows(RewardConfigException.class, () -> reg.createByName("acuracy", Map.of()));
        assertTrue(e.getMessage().contains("did you mean 'accuracy'"), e.getMessage());
        assertTrue(e.getMessage().contains("available: accuracy"), e.getMessage());
        RewardConfigException rm = assertThrows(RewardConfigException.class, () -> reg.createByName("reward_model", Map.of()));
        assertTrue(rm.getMessage().contains("reserved"), rm.getMessage());
        RewardConfigException cls = assertThrows(RewardConfigException.class, () -> reg.createByClass("com.acme.Missing", Map.of()));
        assertTrue(cls.getMessage().contains("plugins"), cls.getMessage());
        RewardConfigException badParam = assertThrows(RewardConfigException.class,
                () -> reg.createByName("overlong", Map.of("max_lenght", 10)));
        assertTrue(badParam.getMessage().contains("max_lenght") && badParam.getMessage().contains("max_length"), badParam.getMessage());
    }

    @Test
    void accuracyCountsParseFailuresNotErrors() {
        try (CompositeReward c = CompositeReward.fromSpecs(List.of(RewardSpec.named("accuracy", 1.0)), RewardRegistry.builtins(),
                CompositeReward.DEFAULT_TIMEOUT)) {
            List<Completion> b = List.of(Completion.of("\\boxed{4}", Map.of("answer", "4")), Completion.of("no idea", Map.of("answer", "4")));
            RewardBatchResult r = c.score(b);
            assertEquals(1.0, r.value("accuracy", 0));
            assertEquals(0.0, r.value("accuracy", 1));
            assertEquals(1.0, r.metrics().get("rewards/accuracy/parse_failures"));
            assertEquals(0.0, r.metrics().get("rewards/accuracy/errors"));
        }
    }
}
