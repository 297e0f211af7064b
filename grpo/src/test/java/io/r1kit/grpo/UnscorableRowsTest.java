package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A completion whose rewards are all null (every reward failed or timed out on it) is unscorable:
 * it is left out of its group's mean and std, of dynamic sampling's all-equal test and of the
 * {@code reward} metric, gets advantage 0, and is counted in {@code rewards/unscorable_frac}.
 * Before, it counted as reward 0: an infrastructure failure became a negative advantage.
 */
class UnscorableRowsTest {

    /** The copy-the-digit reward, but null for every third completion of a batch (a flaky reward service). */
    static final class Flaky implements RewardFunction {
        @Override
        public String name() {
            return "copy";
        }

        @Override
        public List<Double> score(List<Completion> batch) {
            List<Double> out = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                Completion c = batch.get(i);
                out.add(i % 3 == 1 ? null : c.text().startsWith(c.columnString("answer")) ? 1.0 : 0.0);
            }
            return out;
        }
    }

    @Test
    void unscorableRowsGetZeroAdvantageAndStayOutOfTheStatistics(@TempDir Path dir) throws Exception {
        ToyTask task = new ToyTask();
        GrpoConfig c = GrpoTrainerTest.config("max_steps", 3, "log_completions_steps", 1, "num_generations", 6, "learning_rate", 0.05);
        CompositeReward flaky = new CompositeReward(List.of(new CompositeReward.Member("copy", new Flaky(), 1.0, Duration.ofSeconds(30))));
        task.trainer(c, task.model(3), dir).rewards(flaky).build().train();
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        ObjectMapper json = new ObjectMapper();
        int groupsWithSignal = 0;
        for (int step = 1; step <= 3; step++) {
            Map<Integer, List<JsonNode>> groups = new TreeMap<>();
            for (String line : Files.readAllLines(dir.resolve("samples/step-" + step + ".jsonl"))) {
                JsonNode n = json.readTree(line);
                groups.computeIfAbsent(n.get("group").asInt(), k -> new ArrayList<>()).add(n);
            }
            double rewardSum = 0;
            int scored = 0, unscorable = 0;
            for (List<JsonNode> g : groups.values()) {
                List<Double> r = new ArrayList<>();
                for (JsonNode n : g) {
                    if (n.get("rewards").get("copy").isNull()) {
                        unscorable++;
                        assertEquals(0.0, n.get("advantage").asDouble(), 0.0, "an unscorable completion has advantage 0: " + n);
                        assertTrue(n.get("reward").isNull(), "its reward is written as null: " + n);
                    } else {
                        r.add(n.get("rewards").get("copy").asDouble());
                    }
                }
                double mean = r.stream().mapToDouble(x -> x).average().orElseThrow(), ss = 0;
                for (double x : r) ss += (x - mean) * (x - mean);
                double std = Math.sqrt(ss / (r.size() - 1));
                if (std > 0) groupsWithSignal++;
                for (JsonNode n : g) {
                    if (n.get("rewards").get("copy").isNull()) continue;
                    double expected = (n.get("rewards").get("copy").asDouble() - mean) / (std + Advantages.STD_EPS);
                    assertEquals(expected, n.get("advantage").asDouble(), 1e-5, "advantage from the scorable rows of its group only: " + n);
                    rewardSum += n.get("rewards").get("copy").asDouble();
                    scored++;
                }
            }
            JsonNode m = lines.get(step - 1);
            assertEquals((double) unscorable / (scored + unscorable), m.get("rewards/unscorable_frac").asDouble(), 1e-12, m.toString());
            assertEquals(rewardSum / scored, m.get("reward").asDouble(), 1e-12, "reward is the mean over scorable completions: " + m);
        }
        assertTrue(groupsWithSignal > 0, "the seed must give some group with differing rewards");
    }
}
