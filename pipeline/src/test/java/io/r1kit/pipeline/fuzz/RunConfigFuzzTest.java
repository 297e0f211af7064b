package io.r1kit.pipeline.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.fuzz.FuzzTarget;
import io.r1kit.pipeline.ablate.Ablation;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz targets for the YAML a user writes: run configs (validated as {@code r1kit validate} does,
 * seeded with every shipped config) and ablation files. Refusals are a ConfigException naming the file.
 */
class RunConfigFuzzTest {

    @TempDir
    Path tmp;

    private static Path repo() {
        return Path.of(System.getProperty("user.dir")).getParent();
    }

    @Test
    void runConfigs() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        for (String c : List.of("quickstart.yaml", "r1-pipeline-tiny.yaml", "r1-zero-countdown.yaml")) {
            seeds.add(Files.readAllBytes(repo().resolve("configs").resolve(c)));
        }
        Path f = tmp.resolve("fuzz-run.yaml");
        // validating a run generates its data sets in memory (to measure the longest templated prompt), so
        // a config asking for more data legitimately allocates more: the bound is 1 GiB, not the file's size
        int accepted = new FuzzTarget("run-config", seeds).allocationLimit(1L << 30).run(100, List.of(ConfigException.class), "fuzz-run.yaml", input -> {
            Files.write(f, input);
            Pipeline.prepare(f, List.of(), tmp.resolve("run"));
        });
        assertTrue(accepted > 0, "the shipped configs must be accepted");
    }

    @Test
    void ablationFiles() throws Exception {
        Path dir = tmp.resolve("configs"), abl = dir.resolve("ablations");
        Files.createDirectories(abl);
        Files.copy(repo().resolve("configs/quickstart.yaml"), dir.resolve("quickstart.yaml"));
        List<byte[]> seeds = new ArrayList<>();
        for (String a : List.of("loss_type.yaml", "beta.yaml", "grpo_vs_ppo.yaml")) {
            seeds.add(Files.readAllBytes(repo().resolve("configs/ablations").resolve(a)));
        }
        Path f = abl.resolve("fuzz-ablation.yaml");
        int accepted = new FuzzTarget("ablation-file", seeds).run(100, List.of(ConfigException.class), "fuzz-ablation.yaml", input -> {
            Files.write(f, input);
            new Ablation(f, List.of(), tmp.resolve("abl-run"));
        });
        assertTrue(accepted > 0, "the shipped ablation files must be accepted");
    }
}
