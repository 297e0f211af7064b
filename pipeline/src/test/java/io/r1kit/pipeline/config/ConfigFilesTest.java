package io.r1kit.pipeline.config;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.DType;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Every shipped config validates (the GPU ones once their paths are given), so no config rots unnoticed. */
class ConfigFilesTest {
    static final Path CONFIGS = Path.of("..", "configs").toAbsolutePath().normalize();


    private static Result cli(String... args) {
        return Cli.run(args);
    }

    /** Configs that need local model or data paths (given with --set below). */
    static boolean needsPaths(Path f) throws Exception {
        return Files.readString(f).contains("${env:");
    }

    @Test
    void everyRunConfigValidates() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(CONFIGS)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no configs found in " + CONFIGS);
        List<String> failures = new ArrayList<>();
        for (Path f : files) {
            if (needsPaths(f)) continue;
            Result r = cli("validate", f.toString());
            if (r.exit() != 0) failures.add(f.getFileName() + ": " + r.err());
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void gpuConfigsValidateOnceTheirPathsAreGiven(@TempDir Path tmp) throws Exception {
        Path gsm8k = Path.of(System.getProperty("r1kit.shared", "../../shared"), "data", "gsm8k").toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isRegularFile(gsm8k.resolve("train.jsonl")),
                "skipped: GSM8K not found at " + gsm8k + " (the shared data folder beside the project)");
        // a tiny Qwen2-architecture HF directory stands in for Qwen2.5-0.5B (only its layout is checked)
        Path model = tmp.resolve("qwen");
        CausalLM.random(ModelConfig.qwen2(64, 32, 64, 1, 2, 1), 1).save(model, DType.F32);
        List<String> failures = new ArrayList<>();
        try (Stream<Path> s = Files.list(CONFIGS)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                // r1-pipeline-qwen2.5.yaml has its own check (R1PipelineConfigsTest)
                if (!needsPaths(f) || !f.getFileName().toString().contains("gsm8k")) continue;
                Result r = cli("validate", f.toString(), "--set", "model=" + model, "--set", "data.train.path=" + gsm8k.resolve("train.jsonl"),
                        "--set", "data.test.path=" + gsm8k.resolve("test.jsonl"));
                if (r.exit() != 0) failures.add(f.getFileName() + ": " + r.err());
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void everyAblationValidatesEveryVariant() throws Exception {
        List<String> failures = new ArrayList<>();
        try (Stream<Path> s = Files.list(CONFIGS.resolve("ablations"))) {
            for (Path f : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                Result r = cli("ablate", f.toString(), "--dry-run", "--run-dir", Files.createTempDirectory("ablate").toString());
                if (r.exit() != 0 || r.out().isBlank()) failures.add(f.getFileName() + ": " + r.err());
            }
        }
        assertEquals(List.of(), failures);
    }
}
