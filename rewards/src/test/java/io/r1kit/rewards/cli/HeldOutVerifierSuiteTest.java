package io.r1kit.rewards.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Held-out answer-equivalence cases from widely used math verifiers' own tests (huggingface/Math-Verify
 * and NVIDIA/NeMo-Skills; see src/test/resources/heldout/README.md), run through the
 * {@code reward --fn accuracy} command: r1kit's verdict must agree with the reference verdict on at
 * least 75% of the cases of each suite.
 */
class HeldOutVerifierSuiteTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void agreesWithMathVerifyOnAtLeast75Percent(@TempDir Path dir) throws Exception {
        assertTrue(agreement(dir, "/heldout/math_verify_cases.jsonl", 100) >= 0.75);
    }

    /** A second, smaller suite (NVIDIA/NeMo-Skills tests/test_math_equal.py, both directions). */
    @Test
    void agreesWithNemoSkillsGraderOnAtLeast75Percent(@TempDir Path dir) throws Exception {
        assertTrue(agreement(dir, "/heldout/nemo_skills_cases.jsonl", 50) >= 0.75);
    }

    private double agreement(Path dir, String resource, int minCases) throws Exception {
        List<JsonNode> cases = new ArrayList<>();
        try (InputStream in = getClass().getResourceAsStream(resource)) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) cases.add(JSON.readTree(line));
            }
        }
        assertTrue(cases.size() >= minCases, resource + " has " + cases.size() + " cases");
        Path input = dir.resolve("in.jsonl"), output = dir.resolve("out.jsonl");
        StringBuilder sb = new StringBuilder();
        for (JsonNode c : cases) {
            ObjectNode row = JSON.createObjectNode();
            row.put("completion", c.get("pred").asText());
            row.put("answer", c.get("gold").asText());
            sb.append(JSON.writeValueAsString(row)).append('\n');
        }
        Files.writeString(input, sb.toString());
        int code = new CommandLine(new RewardCommand()).execute("--fn", "accuracy", "--input", input.toString(), "--output", output.toString());
        assertEquals(0, code);
        List<String> out = Files.readAllLines(output);
        assertEquals(cases.size(), out.size());
        int agree = 0;
        List<String> disagreements = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode r = JSON.readTree(out.get(i));
            int got = r.get("rewards").get("accuracy").asDouble() > 0.5 ? 1 : 0;
            int want = cases.get(i).get("expected").asInt();
            if (got == want) agree++;
            else disagreements.add(cases.get(i).get("group").asText() + " want=" + want + " gold=" + abbreviate(cases.get(i).get("gold").asText())
                    + " pred=" + abbreviate(cases.get(i).get("pred").asText()));
        }
        double rate = agree / (double) cases.size();
        System.out.printf("held-out agreement %s: %d / %d = %.3f%n", resource, agree, cases.size(), rate);
        disagreements.forEach(d -> System.out.println("  disagree: " + d));
        assertTrue(rate >= 0.75, String.format("agreement %.3f < 0.75; disagreements:%n%s", rate, String.join("\n", disagreements)));
        return rate;
    }

    private static String abbreviate(String s) {
        s = s.replace("\n", "\\n");
        return s.length() > 120 ? "..." + s.substring(s.length() - 117) : s;
    }
}
