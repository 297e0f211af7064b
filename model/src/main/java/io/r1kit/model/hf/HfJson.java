package io.r1kit.model.hf;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The JSON reading shared by checkpoint and tokenizer files: a strict mapper (duplicate keys and
 * trailing garbage are errors; Jackson's default nesting/length limits stop hostile input) and a
 * reader whose errors name the file.
 */
public final class HfJson {

    /** Strict mapper for untrusted input. Thread-safe once configured. */
    public static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonParser.Feature.ALLOW_COMMENTS)
            .build();

    /** Mapper for writing (plain, no pretty printing). */
    public static final ObjectMapper WRITER = JsonMapper.builder().build();

    private HfJson() {}

    /** Reads and parses a JSON file; a missing file or bad JSON gives a {@link CheckpointException} naming it. */
    public static JsonNode read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, null, "file not found");
        }
        return parse(bytes, file);
    }

    /** Parses JSON bytes that came from {@code file} (used in error messages only). */
    public static JsonNode parse(byte[] bytes, Path file) throws CheckpointException {
        try {
            JsonNode node = STRICT.readTree(bytes);
            if (node == null || node.isMissingNode()) throw new CheckpointException(file, null, "empty JSON document");
            return node;
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "not valid JSON: " + e.getMessage(), e);
        }
    }
}
