package io.r1kit.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetTest {
    @TempDir
    Path tmp;

    static Dataset numbers(int n) {
        return new Dataset(IntStream.range(0, n)
                .mapToObj(i -> new Example("e" + i, Map.of("prompt", "x".repeat(i), "answer", String.valueOf(i)))).toList());
    }

    static List<String> ids(Iterable<Example> ds) {
        List<String> out = new ArrayList<>();
        ds.forEach(e -> out.add(e.id()));
        return out;
    }

    @Test
    void shuffleIsSeededAndAPermutation() {
        Dataset d = numbers(50);
        assertEquals(ids(d.shuffle(1)), ids(d.shuffle(1)));
        assertNotEquals(ids(d.shuffle(1)), ids(d.shuffle(2)));
        assertNotEquals(ids(d), ids(d.shuffle(1)));
        assertEquals(new HashSet<>(ids(d)), new HashSet<>(ids(d.shuffle(1))));
    }

    @Test
    void splitByFractionAndCount() {
        Dataset d = numbers(10);
        Dataset.Split s = d.splitFraction(0.2);
        assertEquals(8, s.train().size());
        assertEquals(2, s.test().size());
        assertEquals(List.of("e8", "e9"), ids(s.test()));
        assertEquals(7, d.splitCount(3).train().size());
        assertThrows(IllegalArgumentException.class, () -> d.splitCount(11));
        assertThrows(IllegalArgumentException.class, () -> d.splitFraction(1.5));
    }

    @Test
    void epochsRepeatAndReshufflePerEpoch() {
        Dataset d = numbers(20);
        List<String> plain = ids(d.epochs(3, null));
        assertEquals(60, plain.size());
        assertEquals(ids(d), plain.subList(40, 60));
        List<String> shuffled = ids(d.epochs(2, 5L));
        assertEquals(ids(d.shuffle(5)), shuffled.subList(0, 20));
        assertEquals(ids(d.shuffle(6)), shuffled.subList(20, 40));
        assertEquals(shuffled, ids(d.epochs(2, 5L)), "reproducible");
    }

    @Test
    void filterByTokenLengthUsesTheGivenCounter() {
        Dataset d = numbers(10);
        assertEquals(List.of("e2", "e3", "e4"), ids(d.filterByLength("prompt", String::length, 2, 4)));
        // A "tokenizer" that counts two characters per token.
        assertEquals(List.of("e3", "e4", "e5", "e6"), ids(d.filterByLength("prompt", s -> (s.length() + 1) / 2, 2, 3)));
    }

    @Test
    void specFromYamlLoadsMapsShufflesFiltersAndSplits() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 40; i++) lines.add("{\"question\": \"" + "q".repeat(i % 10 + 1) + "\", \"sol\": \"" + i + "\"}");
        lines.add("garbage");
        Files.write(tmp.resolve("train.jsonl"), lines);
        Files.writeString(tmp.resolve("ds.yaml"), """
                path: train.jsonl
                columns: {prompt: question, answer: sol}
                skip_invalid: true
                shuffle: true
                seed: 3
                max_tokens: 8
                test_size: 4
                epochs: 2
                """);
        DatasetSpec spec = DatasetSpec.fromYaml(tmp.resolve("ds.yaml"));
        Dataset.Split s = spec.load(null);
        assertEquals(32 - 4, s.train().size());
        assertEquals(4, s.test().size());
        assertEquals(1, s.train().report().skipped());
        for (Example e : s.train()) assertTrue(e.getString("prompt").length() <= 8);
        assertEquals(2, spec.epochs());
        Files.writeString(tmp.resolve("bad.yaml"), "path: train.jsonl\nshufle: true\n");
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetSpec.fromYaml(tmp.resolve("bad.yaml")));
        assertTrue(e.getMessage().contains("unknown dataset key 'shufle'"), e.getMessage());
    }
}
