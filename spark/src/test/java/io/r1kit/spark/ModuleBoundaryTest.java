package io.r1kit.spark;

import io.r1kit.data.Dataset;
import io.r1kit.grpo.GrpoTrainer;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.pipeline.cluster.Cluster;
import io.r1kit.rewards.CompositeReward;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The other modules' jars (or class folders) hold no Spark or Scala class: Spark stays in this module. */
class ModuleBoundaryTest {

    @Test
    void noOtherModuleHoldsSparkClasses() throws Exception {
        List<String> found = new ArrayList<>();
        int entries = 0;
        for (Class<?> c : List.of(CausalLM.class, Dataset.class, CompositeReward.class, GrpoTrainer.class, Cluster.class)) {
            Path where = location(c);
            for (String e : entries(where)) {
                entries++;
                if (e.startsWith("org/apache/spark/") || e.startsWith("scala/")) found.add(where.getFileName() + "!" + e);
            }
        }
        assertTrue(entries > 100, "the modules' classes were listed");
        assertEquals(List.of(), found);
    }

    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static List<String> entries(Path jarOrDir) throws IOException {
        if (Files.isDirectory(jarOrDir)) {
            try (var walk = Files.walk(jarOrDir)) {
                return walk.filter(Files::isRegularFile).map(p -> jarOrDir.relativize(p).toString().replace('\\', '/')).toList();
            }
        }
        try (JarFile jar = new JarFile(jarOrDir.toFile())) {
            return jar.stream().map(e -> e.getName()).toList();
        }
    }
}
