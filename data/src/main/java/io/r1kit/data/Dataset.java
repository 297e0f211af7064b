package io.r1kit.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * An in-memory list of examples with the operations trainers need: seeded shuffle, split by fraction
 * or count, repeat for epochs, filter by token length. Reading streams (see {@link DatasetReader});
 * a Dataset holds the examples once read. Every operation returns a new Dataset and leaves this one.
 */
public final class Dataset implements Iterable<Example> {
    private final List<Example> examples;
    private final ReadReport report;

    public Dataset(List<Example> examples) {
        this(examples, null);
    }

    public Dataset(List<Example> examples, ReadReport report) {
        this.examples = List.copyOf(examples);
        this.report = report;
    }

    /** Reads a whole file (JSONL, or JSON array by extension) with no column mapping. */
    public static Dataset read(Path file) {
        return read(new DatasetReader(file));
    }

    public static Dataset read(DatasetReader reader) {
        ReadReport report = new ReadReport(reader.file());
        List<Example> list = new ArrayList<>();
        try (Stream<Example> s = reader.stream(report)) {
            s.forEach(list::add);
        }
        return new Dataset(list, report);
    }

    /** What reading gave (read and skipped counts), or null for a dataset not read from a file. */
    public ReadReport report() { return report; }

    public int size() { return examples.size(); }

    public boolean isEmpty() { return examples.isEmpty(); }

    public Example get(int i) { return examples.get(i); }

    public List<Example> examples() { return examples; }

    public Stream<Example> stream() { return examples.stream(); }

    @Override
    public Iterator<Example> iterator() { return examples.iterator(); }

    /** Fisher-Yates with a seeded SplittableRandom: the same seed gives the same order on every JVM. */
    public Dataset shuffle(long seed) {
        List<Example> copy = new ArrayList<>(examples);
        shuffleInPlace(copy, new SplittableRandom(seed));
        return new Dataset(copy, report);
    }

    static <T> void shuffleInPlace(List<T> list, SplittableRandom rnd) {
        for (int i = list.size() - 1; i > 0; i--) {
            Collections.swap(list, i, rnd.nextInt(i + 1));
        }
    }

    public Dataset limit(int n) {
        if (n < 0) throw new IllegalArgumentException("limit must be >= 0, got " + n);
        return n >= size() ? this : new Dataset(examples.subList(0, n), report);
    }

    /** The first {@code size - testCount} examples train, the last {@code testCount} test (shuffle first if wanted). */
    public Split splitCount(int testCount) {
        if (testCount < 0 || testCount > size()) {
            throw new IllegalArgumentException("test count " + testCount + " is outside 0.." + size());
        }
        int cut = size() - testCount;
        return new Split(new Dataset(examples.subList(0, cut), report), new Dataset(examples.subList(cut, size()), report));
    }

    /** Test gets {@code round(size * testFraction)} examples. */
    public Split splitFraction(double testFraction) {
        if (!(testFraction >= 0 && testFraction <= 1)) {
            throw new IllegalArgumentException("test fraction must be in [0, 1], got " + testFraction);
        }
        return splitCount((int) Math.round(size() * testFraction));
    }

    /**
     * Keeps examples whose text (as {@code text} gives it, e.g. a column or a rendered prompt) has a
     * token count in {@code [minTokens, maxTokens]}. The counter is the model's tokenizer, or
     * {@code String::length} for characters.
     */
    public Dataset filterByLength(Function<Example, String> text, ToIntFunction<String> tokenCounter, int minTokens, int maxTokens) {
        List<Example> kept = new ArrayList<>();
        for (Example e : examples) {
            int n = tokenCounter.applyAsInt(text.apply(e));
            if (n >= minTokens && n <= maxTokens) kept.add(e);
        }
        return new Dataset(kept, report);
    }

    /** Length filter on one column. */
    public Dataset filterByLength(String column, ToIntFunction<String> tokenCounter, int minTokens, int maxTokens) {
        return filterByLength(e -> e.getString(column), tokenCounter, minTokens, maxTokens);
    }

    /**
     * The examples repeated for {@code epochs} passes, lazily. With a seed each pass is shuffled with
     * {@code seed + epoch} (so passes differ but the run is reproducible); with null, source order.
     */
    public Iterable<Example> epochs(int epochs, Long seed) {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        return () -> new Iterator<>() {
            int epoch = -1;
            Iterator<Example> current = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext()) {
                    if (epoch + 1 >= epochs || examples.isEmpty()) return false;
                    epoch++;
                    current = seed == null ? examples.iterator() : shuffle(seed + epoch).iterator();
                }
                return true;
            }

            @Override
            public Example next() {
                if (!hasNext()) throw new NoSuchElementException();
                return current.next();
            }
        };
    }

    /** A train/test split. */
    public record Split(Dataset train, Dataset test) {}
}
