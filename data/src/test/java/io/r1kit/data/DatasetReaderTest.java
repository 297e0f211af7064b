package io.r1kit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetReaderTest {
    @TempDir
    Path tmp;

    private Path file(String name, String... lines) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, List.of(lines));
        return f;
    }

    @Test
    void jsonlWithColumnMappingKeepsEveryColumn() throws Exception {
        Path f = file("d.jsonl",
                "{\"question\": \"2+2?\", \"answer\": \"4\", \"level\": 1}",
                "",
                "{\"id\": \"q7\", \"question\": \"3+3?\", \"answer\": \"6\", \"extra\": [1, 2]}");
        Dataset ds = Dataset.read(new DatasetReader(f, null, Map.of("prompt", "question"), false, "id"));
        assertEquals(2, ds.size());
        Example a = ds.get(0);
        assertEquals(List.of("question", "answer", "level", "prompt"), List.copyOf(a.columns().keySet()));
        assertEquals("2+2?", a.getString("prompt"));
        assertEquals("2+2?", a.getString("question"));
        assertEquals(1, a.getInt("level"));
        assertEquals("d-0", a.id());
        assertEquals("q7", ds.get(1).id());
        assertEquals(List.of(1, 2), ds.get(1).get("extra"));
        assertEquals(2, ds.report().read());
    }

    @Test
    void badLineIsAnErrorWithItsLineNumber() throws Exception {
        Path f = file("bad.jsonl", "{\"prompt\": \"a\"}", "{\"prompt\": \"b\"", "{\"prompt\": \"c\"}");
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.read(f));
        assertTrue(e.getMessage().contains("bad.jsonl:2: invalid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("skip_invalid"), e.getMessage());
        Path tail = file("tail.jsonl", "{\"prompt\": \"a\"}", "{\"prompt\": \"b\"} {\"prompt\": \"c\"}");
        e = assertThrows(DatasetException.class, () -> Dataset.read(tail));
        assertTrue(e.getMessage().contains("tail.jsonl:2: invalid JSON"), e.getMessage());
    }

    @Test
    void missingMappedColumnAndNonObjectsAreInvalid() throws Exception {
        Path f = file("m.jsonl", "{\"q\": \"a\"}", "[1, 2]", "{\"question\": \"ok\"}");
        DatasetException e = assertThrows(DatasetException.class,
                () -> Dataset.read(new DatasetReader(f, null, Map.of("prompt", "question"), false, "id")));
        assertTrue(e.getMessage().contains("m.jsonl:1: missing column 'question' (mapped to 'prompt')"), e.getMessage());
    }

    @Test
    void skipInvalidWarnsAndCounts() throws Exception {
        Path f = file("s.jsonl", "{\"question\": \"a\"}", "not json", "[1]", "{\"q\": 1}", "{\"question\": \"b\"}",
                "{\"question\": \"c\", \"messages\": [{\"role\": \"user\"}]}");
        Dataset ds = Dataset.read(new DatasetReader(f, null, Map.of("prompt", "question"), true, "id"));
        assertEquals(List.of("a", "b"), ds.stream().map(x -> x.getString("prompt")).toList());
        assertEquals(4, ds.report().skipped());
        assertEquals(2, ds.report().read());
        List<String> w = ds.report().warnings();
        assertTrue(w.get(0).contains("s.jsonl:2:"), w.toString());
        assertTrue(w.get(1).contains("s.jsonl:3: expected a JSON object"), w.toString());
        assertTrue(w.get(2).contains("s.jsonl:4: missing column"), w.toString());
        assertTrue(w.get(3).contains("s.jsonl:6: messages[0].content must be a string"), w.toString());
    }

    @Test
    void jsonArrayStreamsWithLineNumbersInErrors() throws Exception {
        Path f = file("a.json", "[", "  {\"prompt\": \"x\", \"answer\": \"1\"},", "  {\"prompt\": \"y\", \"answer\": \"2\"},", "  {\"answer\": \"3\"}", "]");
        DatasetException e = assertThrows(DatasetException.class,
                () -> Dataset.read(new DatasetReader(f, null, Map.of("prompt", "prompt"), false, "id")));
        assertTrue(e.getMessage().contains("a.json:4: missing column 'prompt'"), e.getMessage());
        Dataset ok = Dataset.read(new DatasetReader(f, null, Map.of(), false, "id"));
        assertEquals(3, ok.size());
        assertEquals("y", ok.get(1).getString("prompt"));
        Path notArray = file("o.json", "{\"prompt\": 1}");
        assertThrows(DatasetException.class, () -> Dataset.read(notArray));
    }

    @Test
    void chatFormatExamples() throws Exception {
        Path f = file("c.jsonl",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}");
        Example e = Dataset.read(f).get(0);
        assertTrue(e.isChat());
        assertEquals(List.of(ChatMessage.system("be brief"), ChatMessage.user("hi"), ChatMessage.assistant("hello")), e.messages());
    }

    @Test
    void missingFileIsNamed() {
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.read(tmp.resolve("nope.jsonl")));
        assertTrue(e.getMessage().contains("nope.jsonl"), e.getMessage());
    }
}
