package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One million countdown lines in a separate JVM whose heap is capped at 256 MB: the output (~230 MB of
 * JSON, more as Java strings) could not be held in that heap, so passing shows generation streams.
 */
class StreamingMemoryTest {
    @TempDir
    Path tmp;

    @Test
    void millionCountdownLinesStreamUnder256MbHeap() throws Exception {
        Path out = tmp.resolve("million.jsonl");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx256m", "-XX:+UseSerialGC", "-cp", cp,
                "io.r1kit.data.cli.DataCommand", "generate", "--task", "countdown", "--n", "1000000", "--seed", "1",
                "--out", out.toString()));
        Path log = tmp.resolve("child.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        String childLog = Files.readString(log);
        assertTrue(done, "generation took over 120 s: " + childLog);
        assertEquals(0, p.exitValue(), "child JVM failed (OutOfMemoryError would mean it does not stream): " + childLog);
        long lines = 0;
        String last = null;
        try (BufferedReader r = Files.newBufferedReader(out)) {
            for (String l; (l = r.readLine()) != null; ) {
                lines++;
                last = l;
            }
        }
        assertEquals(1_000_000, lines);
        assertTrue(last.startsWith("{\"id\":\"countdown-999999\""), last);
        assertTrue(Files.size(out) > 256L * 1024 * 1024 * 0.7, "the file is comparable to the heap cap: " + Files.size(out));
        // The last line equals the same example generated in-process: streaming changed nothing.
        assertEquals(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(
                new CountdownGenerator(1, GeneratorParams.empty()).generate(999_999)), last);
        Files.delete(out);
    }
}
