package io.r1kit.data.gen;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes records one per line as they come; nothing is kept. Key order is the map's insertion order and
 * non-ASCII text is written as UTF-8, so equal records give equal bytes.
 */
public final class JsonlWriter implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    private final Writer out;
    private long count;

    public JsonlWriter(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            this.out = new BufferedWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8), 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public JsonlWriter(Writer out) {
        this.out = out;
    }

    public void write(Map<String, Object> record) {
        try {
            out.write(JSON.writeValueAsString(record));
            out.write('\n');
            count++;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public long count() { return count; }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes examples {@code 0..n-1} of a generator to a file; returns n. */
    public static long generate(TaskGenerator gen, long n, Path file) {
        try (JsonlWriter w = new JsonlWriter(file)) {
            for (long i = 0; i < n; i++) w.write(gen.generate(i));
            return w.count();
        }
    }
}
