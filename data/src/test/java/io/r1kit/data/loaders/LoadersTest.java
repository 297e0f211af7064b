package io.r1kit.data.loaders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.DatasetSpec;
import io.r1kit.data.Example;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadersTest {
    @TempDir
    Path tmp;

    static Path gsm8kDir() {
        String shared = System.getProperty("r1kit.shared", "../../shared");
        return Path.of(shared, "data", "gsm8k");
    }

    @Test
    void gsm8kFromSharedLoadsWithFinalAnswers() {
        Path dir = gsm8kDir();
        assumeTrue(Files.isRegularFile(dir.resolve("train.jsonl")),
                "skipped: GSM8K not found at " + dir.toAbsolutePath() + " (set -Dr1kit.shared)");
        Dataset.Split s = Gsm8k.load(dir);
        assertEquals(7473, s.train().size());
        assertEquals(1319, s.test().size());
        Example first = s.train().get(0);
        assertTrue(first.getString("question").startsWith("Natalia sold clips"));
        assertEquals(first.getString("question"), first.getString("prompt"));
        assertEquals("72", first.getString("answer"));
        assertTrue(first.getString("solution").endsWith("72 clips altogether in April and May."), first.getString("solution"));
        assertTrue(first.getString("answer_raw").endsWith("#### 72"));
        for (Dataset d : List.of(s.train(), s.test())) {
            for (Example e : d) {
                assertTrue(e.getString("answer").matches("-?\\d+(\\.\\d+)?"), e.id() + ": " + e.getString("answer"));
                assertTrue(!e.getString("solution").contains("####"), e.id());
            }
        }
    }

    @Test
    void gsm8kConversionStripsThousandsSeparatorsAndRejectsMissingFinal() throws Exception {
        Files.write(tmp.resolve("train.jsonl"), List.of(
                "{\"question\": \"q\", \"answer\": \"a lot\\n#### 1,234\"}"));
        Files.write(tmp.resolve("test.jsonl"), List.of("{\"question\": \"q\", \"answer\": \"no final\"}"));
        assertEquals("1234", Gsm8k.load(tmp, "train").get(0).getString("answer"));
        DatasetException e = assertThrows(DatasetException.class, () -> Gsm8k.load(tmp, "test"));
        assertTrue(e.getMessage().contains("no '#### N'"), e.getMessage());
        // Also through a YAML spec with loader: gsm8k.
        Dataset viaSpec = DatasetSpec.fromMap(Map.of("path", "train.jsonl", "loader", "gsm8k"), tmp, "test").load(null).train();
        assertEquals("1234", viaSpec.get(0).getString("answer"));
    }

    @Test
    void boxedAnswers() {
        assertEquals("\\frac{1}{2}", MathProblems.lastBoxed("so $x = \\boxed{\\frac{1}{2}}$."));
        assertEquals("5", MathProblems.lastBoxed("first \\boxed{3} then \\boxed{5}"));
        assertEquals("x^{2}+\\{1\\}", MathProblems.lastBoxed("\\fbox{x^{2}+\\{1\\}}"));
        assertEquals("7", MathProblems.lastBoxed("the answer is \\boxed 7$"));
        assertNull(MathProblems.lastBoxed("\\boxed{unclosed"));
        assertNull(MathProblems.lastBoxed("no box"));
    }

    @Test
    void mathStyleRecordsGetPromptAndAnswerAndKeepLevelAndType() throws Exception {
        Path f = tmp.resolve("math.jsonl");
        Files.write(f, List.of(
                "{\"problem\": \"Compute $1+1$.\", \"solution\": \"$1+1=\\\\boxed{2}$\", \"level\": \"Level 1\", \"type\": \"Algebra\"}",
                "{\"problem\": \"p\", \"solution\": \"none\", \"level\": \"Level 2\", \"type\": \"Geometry\"}"));
        DatasetException e = assertThrows(DatasetException.class, () -> MathProblems.load(f));
        assertTrue(e.getMessage().contains("no \\boxed"), e.getMessage());
        Files.write(f, List.of(
                "{\"problem\": \"Compute $1+1$.\", \"solution\": \"$1+1=\\\\boxed{2}$\", \"level\": \"Level 1\", \"type\": \"Algebra\"}"));
        Example ex = MathProblems.load(f).get(0);
        assertEquals("2", ex.getString("answer"));
        assertEquals("Compute $1+1$.", ex.getString("prompt"));
        assertEquals("Level 1", ex.getString("level"));
        assertEquals("Algebra", ex.getString("type"));
    }
}
