package io.r1kit.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams examples from a JSONL file (one object per line) or a JSON file holding an array of objects,
 * without loading the file into memory.
 *
 * <p>Column mapping: {@code canonical -> source}, e.g. {@code prompt -> question}. The source column
 * stays, the canonical one is added beside it, so each example keeps every column. A record that is
 * not valid JSON, not an object, lacks a mapped column or has a malformed {@code messages} column is
 * invalid: an error naming file and line, or, with {@code skipInvalid}, a logged warning and a counted
 * skip. In a JSON array a syntax error cannot be stepped over (the parser loses its place), so it is
 * always an error.
 */
public final class DatasetReader {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetReader.class);
    /** Strict: {@code {"a": 1} junk} on a JSONL line is an error, not a silently dropped tail. */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** For reading one element at a time out of an array, where more tokens always follow. */
    private static final ObjectMapper ARRAY_JSON = new ObjectMapper();

    public enum Format { JSONL, JSON_ARRAY;

        /** By extension: {@code .json} is an array, anything else ({@code .jsonl}, {@code .ndjson}) is JSONL. */
        public static Format of(Path file) {
            return file.getFileName().toString().toLowerCase().endsWith(".json") ? JSON_ARRAY : JSONL;
        }

        public static Format parse(String s, String where) {
            return switch (s.toLowerCase()) {
                case "jsonl", "ndjson" -> JSONL;
                case "json", "json_array", "array" -> JSON_ARRAY;
                default -> throw new DatasetException(where + ": unknown format '" + s + "', expected jsonl or json");
            };
        }
    }

    private final Path file;
    private final Format format;
    private final Map<String, String> columnMap;
    private final boolean skipInvalid;
    private final String idColumn;

    public DatasetReader(Path file, Format format, Map<String, String> columnMap, boolean skipInvalid, String idColumn) {
        this.file = file;
        this.format = format == null ? Format.of(file) : format;
        this.columnMap = columnMap == null ? Map.of() : new LinkedHashMap<>(columnMap);
        this.skipInvalid = skipInvalid;
        this.idColumn = idColumn == null ? "id" : idColumn;
    }

    public Path file() { return file; }

    public DatasetReader(Path file) {
        this(file, null, Map.of(), false, "id");
    }

    /**
     * A lazy stream of the file's examples; close it (try-with-resources) to close the file. The
     * report fills in as the stream is consumed.
     */
    public Stream<Example> stream(ReadReport report) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("dataset file not found: " + file.toAbsolutePath());
        }
        CloseableIterator it = format == Format.JSONL ? new JsonlIterator(report) : new ArrayIterator(report);
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, Spliterator.ORDERED | Spliterator.NONNULL), false)
                .onClose(it::close);
    }

    public Stream<Example> stream() {
        return stream(new ReadReport(file));
    }

    /** Turns one parsed record into an example, or throws IllegalArgumentException saying why it is invalid. */
    private Example toExample(JsonNode node, long index) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object, got " + (node == null ? "nothing" : node.getNodeType()));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> cols = JSON.convertValue(node, LinkedHashMap.class);
        for (Map.Entry<String, String> e : columnMap.entrySet()) {
            String canonical = e.getKey(), source = e.getValue();
            if (!cols.containsKey(source) || cols.get(source) == null) {
                throw new IllegalArgumentException("missing column '" + source + "' (mapped to '" + canonical
                        + "'); the record has " + cols.keySet());
            }
            if (!canonical.equals(source)) cols.put(canonical, cols.get(source));
        }
        if (cols.containsKey(Example.MESSAGES)) ChatMessage.parseList(cols.get(Example.MESSAGES));
        Object idv = cols.get(idColumn);
        String id = idv instanceof String || idv instanceof Number ? String.valueOf(idv) : stem() + "-" + index;
        return new Example(id, cols);
    }

    private String stem() {
        String n = file.getFileName().toString();
        int dot = n.indexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** Error or skip for a bad record at a line. Returns normally only when skipping. */
    private void invalid(ReadReport report, long line, String why) {
        String msg = file + ":" + line + ": " + why;
        if (!skipInvalid) throw new DatasetException(msg + " (set skip_invalid: true to skip bad records)");
        LOG.warn("skipping invalid record: {}", msg);
        report.countSkip(msg);
    }

    private interface CloseableIterator extends Iterator<Example>, AutoCloseable {
        @Override
        void close();
    }

    private final class JsonlIterator implements CloseableIterator {
        private final ReadReport report;
        private final BufferedReader in;
        private long line;
        private long index;
        private Example next;

        JsonlIterator(ReadReport report) {
            this.report = report;
            try {
                in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new DatasetException("cannot open " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public boolean hasNext() {
            while (next == null) {
                String text;
                try {
                    text = in.readLine();
                } catch (CharacterCodingException e) {
                    throw new DatasetException(file + ": line " + (line + 1) + ": not valid UTF-8 text", e);
                } catch (IOException e) {
                    throw new DatasetException("cannot read " + file + " at line " + (line + 1) + ": " + e.getMessage(), e);
                }
                if (text == null) return false;
                line++;
                if (text.isBlank()) continue;
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    invalid(report, line, "invalid JSON: " + e.getOriginalMessage());
                    continue;
                }
                try {
                    next = toExample(node, index);
                    index++;
                    report.countRead();
                } catch (IllegalArgumentException e) {
                    invalid(report, line, e.getMessage());
                }
            }
            return true;
        }

        @Override
        public Example next() {
            if (!hasNext()) throw new NoSuchElementException();
            Example e = next;
            next = null;
            return e;
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private final class ArrayIterator implements CloseableIterator {
        private final ReadReport report;
        private final JsonParser parser;
        private long index;
        private boolean done;
        private Example next;

        ArrayIterator(ReadReport report) {
            this.report = report;
            try {
                parser = ARRAY_JSON.getFactory().createParser(file.toFile());
                JsonToken t = parser.nextToken();
                if (t != JsonToken.START_ARRAY) {
                    throw new DatasetException(file + ":" + parser.currentLocation().getLineNr()
                            + ": expected a JSON array of objects, got " + t);
                }
            } catch (IOException e) {
                throw new DatasetException(file + ": invalid JSON: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean hasNext() {
            while (next == null && !done) {
                long line = 0;
                try {
                    JsonToken t = parser.nextToken();
                    line = parser.currentLocation().getLineNr();
                    if (t == JsonToken.END_ARRAY || t == null) {
                        done = true;
                        return false;
                    }
                    JsonNode node = ARRAY_JSON.readTree(parser);
                    try {
                        next = toExample(node, index);
                        index++;
                        report.countRead();
                    } catch (IllegalArgumentException e) {
                        invalid(report, line, e.getMessage());
                    }
                } catch (IOException e) {
                    throw new DatasetException(file + ":" + (line > 0 ? line : parser.currentLocation().getLineNr())
                            + ": invalid JSON: " + e.getMessage(), e);
                }
            }
            return next != null;
        }

        @Override
        public Example next() {
            if (!hasNext()) throw new NoSuchElementException();
            Example e = next;
            next = null;
            return e;
        }

        @Override
        public void close() {
            try {
                parser.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
