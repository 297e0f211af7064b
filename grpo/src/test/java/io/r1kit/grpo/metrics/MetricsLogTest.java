package io.r1kit.grpo.metrics;

import com.fasterxml.jackson.databind.JsonNode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @Test
    void nonFiniteValuesAreNullAndOrderIsKept() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", 3L);
        m.put("stage", "grpo");
        m.put("kl", Double.NaN);
        m.put("loss", 0.5);
        assertEquals("{\"step\":3,\"stage\":\"grpo\",\"kl\":null,\"loss\":0.5}", MetricsLog.toJson(m));
    }

    @Test
    void truncateAfterDropsLaterStepsAndATornLastLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.jsonl");
        try (MetricsLog log = new MetricsLog(f)) {
            for (long s = 1; s <= 5; s++) log.write(Map.of("step", s, "reward", s / 10.0));
            log.write(Map.of("step", 3L, "eval/accuracy", 0.5));
        }
        Files.writeString(f, Files.readString(f) + "{\"step\":6,\"rew", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        assertEquals(3, MetricsLog.truncateAfter(f, 3));   // steps 4, 5 and the torn line
        List<String> lines = Files.readAllLines(f);
        assertEquals(4, lines.size());
        assertEquals(0.5, MetricsLog.read(f).get(3).get("eval/accuracy").asDouble());
        try (MetricsLog log = new MetricsLog(f)) {
            log.write(Map.of("step", 4L));
        }
        assertEquals(5, MetricsLog.read(f).size());
    }

    @Test
    void truncateAfterInASharedFileOnlyDropsTheResumedStagesLines(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.jsonl");
        try (MetricsLog log = new MetricsLog(f)) {
            for (long s = 1; s <= 4; s++) log.write(Map.of("stage", "pretrain", "step", s));
            for (long s = 1; s <= 3; s++) log.write(Map.of("stage", "grpo", "step", s));
        }
        assertTrue(MetricsLog.hasLines(f, "grpo"));
        assertFalse(MetricsLog.hasLines(f, "sft"));
        assertEquals(1, MetricsLog.truncateAfter(f, 2, "grpo"));     // grpo step 3 only; pretrain steps 3, 4 stay
        List<JsonNode> lines = MetricsLog.read(f);
        assertEquals(6, lines.size());
        assertEquals(4, lines.stream().filter(n -> n.get("stage").asText().equals("pretrain")).count());
        assertEquals(0, MetricsLog.truncateAfter(f, 2, "grpo"));
        assertEquals(2, MetricsLog.truncateAfter(f, -1, "grpo"));    // a stage restarted from scratch
        assertFalse(MetricsLog.hasLines(f, "grpo"));
    }
}
