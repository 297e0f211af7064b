package io.r1kit.data.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.DatasetReader;
import io.r1kit.data.loaders.Gsm8k;
import io.r1kit.data.loaders.MathProblems;
import io.r1kit.model.fuzz.FuzzTarget;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz targets for every data set loader: generic JSONL and JSON-array files (strict and with
 * {@code skip_invalid}), GSM8K and MATH. Refusals are a {@link DatasetException} naming the file.
 */
class DatasetFuzzTest {

    @TempDir
    Path tmp;

    private static final List<Class<? extends Throwable>> DOCUMENTED = List.of(DatasetException.class);

    static final String JSONL = """
            {"id": "a1", "prompt": "What is 2+3?", "answer": "5", "lang": "en"}
            {"id": "a2", "prompt": "Сколько будет 4*4?", "answer": "16", "meta": {"level": 2, "tags": ["x"]}}

            {"prompt": "no id here", "answer": 7}
            """;

    @Test
    void jsonlAndJsonArrayFiles() throws Exception {
        Path jsonl = tmp.resolve("fuzz-data.jsonl"), json = tmp.resolve("fuzz-data.json");
        byte[] arraySeed = ("[" + String.join(",", JSONL.strip().lines().filter(l -> !l.isBlank()).toList()) + "]")
                .getBytes(StandardCharsets.UTF_8);
        int a = new FuzzTarget("dataset-jsonl", List.of(JSONL.getBytes(StandardCharsets.UTF_8))).run(DOCUMENTED, "fuzz-data.jsonl", input -> {
            Files.write(jsonl, input);
            Dataset.read(new DatasetReader(jsonl, DatasetReader.Format.JSONL, Map.of(), false, "id"));
            Dataset.read(new DatasetReader(jsonl, DatasetReader.Format.JSONL, Map.of("question", "prompt"), true, "id"));
        });
        int b = new FuzzTarget("dataset-json-array", List.of(arraySeed)).run(DOCUMENTED, "fuzz-data.json", input -> {
            Files.write(json, input);
            Dataset.read(new DatasetReader(json, null, Map.of(), false, "id"));
        });
        assertTrue(a > 0 && b > 0, "the valid seeds must be accepted");
    }

    @Test
    void gsm8kAndMathLoaders() throws Exception {
        String gsm = """
                {"question": "Tom has 3 apples and buys 4. How many?", "answer": "3 + 4 = <<3+4=7>>7\\n#### 7"}
                {"question": "A shirt costs $1,200 and is 10% off.", "answer": "1200 * 0.9 = 1080\\n#### 1,080"}
                """;
        String math = """
                {"problem": "Compute $\\\\frac{1}{2}+\\\\frac{1}{3}$.", "solution": "It is $\\\\boxed{\\\\frac{5}{6}}$.", "level": "Level 2"}
                {"problem": "Solve x+1=3.", "solution": "x = \\\\boxed 2"}
                """;
        Path gdir = tmp.resolve("gsm8k-fuzz");
        Files.createDirectories(gdir);
        Path train = gdir.resolve("train.jsonl");
        Files.writeString(gdir.resolve("test.jsonl"), gsm);
        int a = new FuzzTarget("gsm8k", List.of(gsm.getBytes(StandardCharsets.UTF_8))).run(DOCUMENTED, "gsm8k-fuzz", input -> {
            Files.write(train, input);
            Gsm8k.load(gdir);
        });
        Path mfile = tmp.resolve("math-fuzz.jsonl");
        int b = new FuzzTarget("math", List.of(math.getBytes(StandardCharsets.UTF_8))).run(DOCUMENTED, "math-fuzz.jsonl", input -> {
            Files.write(mfile, input);
            MathProblems.load(mfile);
        });
        assertTrue(a > 0 && b > 0, "the valid seeds must be accepted");
    }
}
