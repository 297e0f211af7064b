package io.r1kit.data.loaders;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.DatasetReader;
import io.r1kit.data.Example;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GSM8K ({@code {"question", "answer"}} where the answer is a worked solution ending in {@code #### N}).
 *
 * <p>Each example keeps {@code question}, gets {@code prompt} (= question), {@code solution} (the text
 * before {@code ####}), {@code answer} (the final answer N, thousands separators removed, as rewards
 * compare it) and {@code answer_raw} (the original answer text), in that order.
 */
public final class Gsm8k {
    private static final Pattern FINAL = Pattern.compile("####\\s*(.+?)\\s*$", Pattern.DOTALL);

    private Gsm8k() {}

    /** Reads {@code dir/train.jsonl} and {@code dir/test.jsonl}. */
    public static Dataset.Split load(Path dir) {
        return new Dataset.Split(load(dir, "train"), load(dir, "test"));
    }

    public static Dataset load(Path dir, String split) {
        Path file = dir.resolve(split + ".jsonl");
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("GSM8K split '" + split + "' not found: expected " + file.toAbsolutePath());
        }
        Dataset raw = Dataset.read(new DatasetReader(file, DatasetReader.Format.JSONL, Map.of(), false, "id"));
        return new Dataset(raw.stream().map(e -> convert(e, file)).toList(), raw.report());
    }

    /** Splits a raw GSM8K record; the file is only for the error message. */
    public static Example convert(Example raw, Path file) {
        String question, answerRaw;
        try {
            question = raw.getString("question");
            answerRaw = raw.getString("answer");
        } catch (DatasetException e) {
            throw file == null ? e : new DatasetException(file + ": " + e.getMessage(), e);
        }
        Matcher m = FINAL.matcher(answerRaw);
        int hash = answerRaw.lastIndexOf("####");
        if (hash < 0 || !m.find(hash)) {
            throw new DatasetException((file == null ? "" : file + ": ") + "GSM8K example '" + raw.id()
                    + "' has no '#### N' final answer in its answer: "
                    + answerRaw.substring(Math.max(0, answerRaw.length() - 80)));
        }
        Map<String, Object> cols = new LinkedHashMap<>();
        cols.put("question", question);
        cols.put(Example.PROMPT, question);
        cols.put("solution", answerRaw.substring(0, hash).strip());
        cols.put(Example.ANSWER, normalizeNumber(m.group(1)));
        cols.put("answer_raw", answerRaw);
        raw.columns().forEach(cols::putIfAbsent);
        return new Example(raw.id(), cols);
    }

    /** "1,234" -> "1234"; other text unchanged except trimmed. */
    static String normalizeNumber(String s) {
        String t = s.strip();
        return t.matches("-?[\\d,]+(\\.\\d+)?") ? t.replace(",", "") : t;
    }
}
