package io.r1kit.data.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import io.r1kit.model.tokenizer.CharTokenizer;

class DataCommandTest {
    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {}

    /** Runs {@code data ...} in-process, capturing System.out (the commands print there) and picocli's err. */
    static Run run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            CommandLine cl = new CommandLine(new DataCommand());
            cl.setErr(new PrintWriter(err));
            int exit = cl.execute(args);
            return new Run(exit, buf.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void generateThenStats() throws Exception {
        Path out = tmp.resolve("cd.jsonl");
        Run g = run("generate", "--task", "countdown", "--n", "300", "--seed", "9", "--out", out.toString(),
                "--param", "max_nums=5");
        assertEquals(0, g.exit(), g.err());
        assertTrue(g.out().contains("wrote 300 countdown examples"), g.out());
        assertEquals(300, Files.readAllLines(out).size());
        Run s = run("stats", out.toString());
        assertEquals(0, s.exit(), s.err());
        assertTrue(s.out().contains("examples: 300"), s.out());
        assertTrue(s.out().contains("columns: id, prompt, answer, nums, target, solution, default_rewards"), s.out());
        assertTrue(s.out().contains("length in characters:"), s.out());
        assertTrue(s.out().lines().anyMatch(l -> l.trim().startsWith("prompt ") && l.trim().split("\\s+").length == 8), s.out());
    }

    @Test
    void statsWithModelDirCountsTokensWithItsTokenizer() throws Exception {
        Path f = tmp.resolve("x.jsonl");
        Files.write(f, List.of("{\"prompt\": \"abc\"}", "{\"prompt\": \"abcdef\"}", "oops"));
        Path model = Files.createDirectories(tmp.resolve("model"));
        Run noTok = run("stats", f.toString(), "--model", model.toString());
        assertEquals(2, noTok.exit());
        // a character tokenizer: one token per character, so token lengths equal character lengths
        CharTokenizer.fromAlphabet("abcdef", List.of()).save(model);
        Run s = run("stats", f.toString(), "--model", model.toString());
        assertEquals(0, s.exit(), s.err());
        assertTrue(s.out().contains("examples: 2 (1 invalid records skipped)"), s.out());
        assertTrue(s.out().contains("length in tokens:"), s.out());
        assertTrue(!s.out().contains("not available"), s.out());
        assertTrue(s.out().contains("x.jsonl:3"), s.out());
    }

    @Test
    void unknownTaskOrParamIsAClearError() {
        Run r = run("generate", "--task", "sudoku", "--n", "1", "--out", tmp.resolve("y.jsonl").toString());
        assertTrue(r.exit() != 0);
        assertTrue(r.err().contains("unknown task 'sudoku'"), r.err());
        Run p = run("generate", "--task", "arithmetic", "--n", "1", "--out", tmp.resolve("y.jsonl").toString(), "--param", "digit=3");
        assertTrue(p.err().contains("no param 'digit'") && p.err().contains("digits"), p.err());
    }
}
