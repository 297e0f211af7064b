package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import io.r1kit.data.Example;

class GeneratorsDeterminismTest {
    @TempDir
    Path tmp;

    static List<String> tasks() {
        return Generators.TASKS;
    }

    private Path write(String task, long seed, String name) {
        Path f = tmp.resolve(name);
        JsonlWriter.generate(Generators.create(task, seed, GeneratorParams.empty()), 500, f);
        return f;
    }

    @ParameterizedTest
    @MethodSource("tasks")
    void sameSeedByteIdenticalDifferentSeedDifferent(String task) throws Exception {
        byte[] a = Files.readAllBytes(write(task, 11, "a.jsonl"));
        byte[] b = Files.readAllBytes(write(task, 11, "b.jsonl"));
        byte[] c = Files.readAllBytes(write(task, 12, "c.jsonl"));
        assertArrayEquals(a, b, task + ": same seed must give the same bytes");
        assertFalse(Arrays.equals(a, c), task + ": different seeds must differ");
    }

    @ParameterizedTest
    @MethodSource("tasks")
    void everyLineIsAnObjectWithIdPromptAnswerAndDefaultRewards(String task) throws Exception {
        Path f = write(task, 5, "x.jsonl");
        List<String> lines = Files.readAllLines(f);
        assertEquals(500, lines.size());
        ObjectMapper json = new ObjectMapper();
        int withPrompt = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n = json.readTree(lines.get(i));
            assertEquals(task + "-" + i, n.get("id").asText());
            if (n.has("prompt")) {
                withPrompt++;
                assertTrue(n.get("prompt").isTextual() && !n.get("prompt").asText().isEmpty());
                assertTrue(n.get("answer").isTextual() && !n.get("answer").asText().isEmpty(), lines.get(i));
                assertTrue(n.get("default_rewards").isArray() && !n.get("default_rewards").isEmpty(), lines.get(i));
            } else {
                // Only the pretraining corpus has documents that are not tasks: plain prose.
                assertEquals("pretrain-corpus", task, lines.get(i));
                assertEquals("plain", n.get("kind").asText());
                assertTrue(n.get("text").isTextual());
            }
        }
        assertTrue(withPrompt > 300, task + ": most lines are tasks");
        // The in-memory view trainers use is the same record.
        TaskGenerator g = Generators.create(task, 5, GeneratorParams.empty());
        Example e = g.example(7);
        assertEquals(task + "-7", e.id());
        assertEquals(lines.get(7), json.writeValueAsString(e.columns()));
    }
}
