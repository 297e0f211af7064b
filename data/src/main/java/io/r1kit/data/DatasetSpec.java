package io.r1kit.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.r1kit.data.loaders.Gsm8k;
import io.r1kit.data.loaders.MathProblems;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * A dataset as configured in YAML:
 *
 * <pre>
 * path: data/train.jsonl      # JSONL, or a JSON array (.json)
 * format: jsonl               # optional: jsonl | json (default: by extension)
 * loader: plain               # plain | gsm8k | math
 * columns: {prompt: question, answer: answer}   # canonical: source
 * id_column: id
 * skip_invalid: false         # true: warn, count and skip bad records instead of failing
 * shuffle: true
 * seed: 0
 * limit: 1000                 # keep the first N (after shuffling)
 * test_fraction: 0.1          # or test_size: 200
 * epochs: 1
 * min_tokens: 0               # length filter, on length_column (default prompt)
 * max_tokens: 512
 * length_column: prompt
 * </pre>
 */
public record DatasetSpec(Path path, DatasetReader.Format format, String loader, Map<String, String> columns,
                          String idColumn, boolean skipInvalid, boolean shuffle, long seed, Integer limit,
                          Double testFraction, Integer testSize, int epochs, int minTokens, int maxTokens,
                          String lengthColumn) {

    public static final Set<String> KEYS = new TreeSet<>(List.of("path", "format", "loader", "columns", "id_column",
            "skip_invalid", "shuffle", "seed", "limit", "test_fraction", "test_size", "epochs", "min_tokens",
            "max_tokens", "length_column"));
    public static final List<String> LOADERS = List.of("plain", "gsm8k", "math");

    public DatasetSpec {
        columns = columns == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(columns));
        if (!LOADERS.contains(loader)) throw new DatasetException("dataset loader '" + loader + "' is unknown; expected one of " + LOADERS);
        if (testFraction != null && testSize != null) throw new DatasetException("dataset: give test_fraction or test_size, not both");
        if (epochs < 1) throw new DatasetException("dataset: epochs must be >= 1, got " + epochs);
    }

    /** A plain JSONL/JSON file with defaults for everything else. */
    public static DatasetSpec of(Path path) {
        return new DatasetSpec(path, null, "plain", Map.of(), "id", false, false, 0, null, null, null, 1, 0,
                Integer.MAX_VALUE, Example.PROMPT);
    }

    public static DatasetSpec fromYaml(Path yaml) {
        Map<?, ?> map;
        try {
            map = new ObjectMapper(new YAMLFactory()).readValue(yaml.toFile(), Map.class);
        } catch (IOException e) {
            throw new DatasetException(yaml + ": cannot read dataset YAML: " + e.getMessage(), e);
        }
        if (map == null) throw new DatasetException(yaml + ": empty dataset YAML");
        Path base = yaml.toAbsolutePath().getParent();
        return fromMap(map, base, yaml.toString());
    }

    /**
     * From a parsed YAML/JSON map (e.g. a {@code dataset:} section of a pipeline config). Relative
     * paths resolve against {@code baseDir}; {@code where} names the source in error messages.
     */
    public static DatasetSpec fromMap(Map<?, ?> map, Path baseDir, String where) {
        for (Object k : map.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new DatasetException(where + ": unknown dataset key '" + k + "'; expected one of " + KEYS);
            }
        }
        Object p = map.get("path");
        if (!(p instanceof String ps)) throw new DatasetException(where + ": dataset needs 'path' (a file), got " + p);
        Path path = baseDir == null ? Path.of(ps) : baseDir.resolve(ps);
        Map<String, String> cols = new LinkedHashMap<>();
        Object c = map.get("columns");
        if (c != null) {
            if (!(c instanceof Map<?, ?> cm)) throw new DatasetException(where + ": 'columns' must map canonical names to source columns, e.g. {prompt: question}");
            cm.forEach((k, v) -> {
                if (!(v instanceof String)) throw new DatasetException(where + ": columns." + k + " must be a column name, got " + v);
                cols.put(String.valueOf(k), (String) v);
            });
        }
        Object f = map.get("format");
        return new DatasetSpec(path,
                f == null ? null : DatasetReader.Format.parse(String.valueOf(f), where),
                str(map, "loader", "plain", where), cols, str(map, "id_column", "id", where),
                bool(map, "skip_invalid", false, where), bool(map, "shuffle", false, where),
                num(map, "seed", 0L, where).longValue(), intOrNull(map, "limit", where),
                map.get("test_fraction") == null ? null : num(map, "test_fraction", 0, where).doubleValue(),
                intOrNull(map, "test_size", where), num(map, "epochs", 1, where).intValue(),
                num(map, "min_tokens", 0, where).intValue(), num(map, "max_tokens", Integer.MAX_VALUE, where).intValue(),
                str(map, "length_column", Example.PROMPT, where));
    }

    /**
     * Reads, converts (loader), shuffles, limits, length-filters and splits. {@code tokenCounter}
     * counts tokens for the length filter; null counts characters.
     */
    public Dataset.Split load(ToIntFunction<String> tokenCounter) {
        DatasetReader reader = new DatasetReader(path, format, columns, skipInvalid, idColumn);
        Dataset ds = Dataset.read(reader);
        if (!loader.equals("plain")) {
            try (Stream<Example> s = ds.stream()) {
                ds = new Dataset(s.map(e -> loader.equals("gsm8k") ? Gsm8k.convert(e, path) : MathProblems.convert(e, path)).toList(),
                        ds.report());
            }
        }
        if (shuffle) ds = ds.shuffle(seed);
        if (limit != null) ds = ds.limit(limit);
        if (minTokens > 0 || maxTokens < Integer.MAX_VALUE) {
            ds = ds.filterByLength(lengthColumn, tokenCounter == null ? String::length : tokenCounter, minTokens, maxTokens);
        }
        if (testSize != null) return ds.splitCount(Math.min(testSize, ds.size()));
        if (testFraction != null) return ds.splitFraction(testFraction);
        return new Dataset.Split(ds, new Dataset(List.of()));
    }

    private static String str(Map<?, ?> m, String k, String dflt, String where) {
        Object v = m.get(k);
        if (v == null) return dflt;
        if (v instanceof String s) return s;
        throw new DatasetException(where + ": '" + k + "' must be text, got " + v);
    }

    private static boolean bool(Map<?, ?> m, String k, boolean dflt, String where) {
        Object v = m.get(k);
        if (v == null) return dflt;
        if (v instanceof Boolean b) return b;
        throw new DatasetException(where + ": '" + k + "' must be true or false, got " + v);
    }

    private static Number num(Map<?, ?> m, String k, Number dflt, String where) {
        Object v = m.get(k);
        if (v == null) return dflt;
        if (v instanceof Number n) return n;
        throw new DatasetException(where + ": '" + k + "' must be a number, got " + v);
    }

    private static Integer intOrNull(Map<?, ?> m, String k, String where) {
        return m.get(k) == null ? null : num(m, k, 0, where).intValue();
    }
}
