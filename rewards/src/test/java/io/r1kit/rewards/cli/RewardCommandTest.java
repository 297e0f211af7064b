package io.r1kit.rewards.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code reward} command's contract: input columns kept, "rewards" map and "reward" sum added. */
class RewardCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) { }

    static Run run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new RewardCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void addsRewardsAndTotalToEachLine(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, String.join("\n",
                "{\"completion\": \"<think>a</think><answer>18</answer>\", \"answer\": \"Janet sells 9 eggs.\\n#### 18\", \"extra\": [1, 2]}",
                "{\"completion\": \"So the result is \\\\boxed{\\\\frac{10}{9}}\", \"answer\": \"$\\\\frac{10}{9}$\"}",
                "{\"completion\": \"<think>a</think><answer>2</answer>\", \"answer\": \"10/9\"}",
                "{\"completion\": \"<think>a</think><answer>5</answer>\"}",
                "") );
        Run r = run("--fn", "accuracy,format", "--input", in.toString());
        assertEquals(0, r.code, r.err);
        List<String> lines = r.out.lines().toList();
        assertEquals(4, lines.size());
        JsonNode l0 = JSON.readTree(lines.get(0));
        assertEquals("[1,2]", l0.get("extra").toString(), "input columns kept");
        assertEquals(1.0, l0.get("rewards").get("accuracy").asDouble());
        assertEquals(1.0, l0.get("rewards").get("format").asDouble());
        assertEquals(2.0, l0.get("reward").asDouble());
        JsonNode l1 = JSON.readTree(lines.get(1));
        assertEquals(1.0, l1.get("rewards").get("accuracy").asDouble());
        assertEquals(0.0, l1.get("rewards").get("format").asDouble());
        assertEquals(1.0, l1.get("reward").asDouble());
        assertEquals(0.0, JSON.readTree(lines.get(2)).get("rewards").get("accuracy").asDouble());
        JsonNode l3 = JSON.readTree(lines.get(3));
        assertTrue(l3.get("rewards").get("accuracy").isNull(), "no answer column -> null");
        assertEquals(1.0, l3.get("reward").asDouble(), "nulls are left out of the sum");
        assertTrue(r.err.contains("scored 4 completions"), r.err);
    }

    @Test
    void configWithWeightsAndOutputFile(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl"), yaml = dir.resolve("r.yaml");
        Files.writeString(in, "{\"completion\": \"<answer>(4 * 3) * 2</answer>\", \"nums\": [2, 3, 4], \"target\": 24}\n"
                + "{\"completion\": \"<answer>4 + 3 + 2</answer>\", \"nums\": [2, 3, 4], \"target\": 24}\n");
        Files.writeString(yaml, "rewards:\n  - {name: countdown, weight: 2.0}\n  - {name: format, weight: 0.5}\n");
        Run r = run("--config", yaml.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code, r.err);
        assertEquals("", r.out);
        List<String> lines = Files.readAllLines(out);
        assertEquals(2.0, JSON.readTree(lines.get(0)).get("reward").asDouble(), 1e-12);
        assertEquals(0.2, JSON.readTree(lines.get(1)).get("reward").asDouble(), 1e-12);
    }

    @Test
    void clearErrors(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"completion\": \"x\"}\n");
        Run unknown = run("--fn", "acuracy", "--input", in.toString());
        assertEquals(2, unknown.code);
        assertTrue(unknown.err.contains("did you mean 'accuracy'"), unknown.err);
        Run both = run("--fn", "accuracy", "--config", "x.yaml", "--input", in.toString());
        assertEquals(2, both.code);
        assertTrue(both.err.contains("exactly one of --fn"), both.err);
        Files.writeString(in, "{\"completion\": \"x\"}\n{\"text\": \"no completion\"}\n");
        Run bad = run("--fn", "accuracy", "--input", in.toString());
        assertEquals(1, bad.code);
        assertTrue(bad.err.contains("line 2") && bad.err.contains("'completion'"), bad.err);
        Run list = run("--list");
        assertEquals(0, list.code);
        assertTrue(list.out.contains("accuracy") && list.out.contains("countdown"), list.out);
    }
}
