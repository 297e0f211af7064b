package io.r1kit.rewards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.rewards.cli.RewardCommand;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A custom reward class, compiled at test time from examples/rewards/ConciseAnswerReward.java and
 * jarred into a temporary plugins/ directory, loads from YAML and scores.
 */
class PluginRewardTest {

    private static Path built;

    /** Compiles the example once per test run and copies the jar into {@code dir}/plugins. */
    static synchronized Path buildPluginJar(Path dir) throws Exception {
        if (built == null) {
            Path tmp = Files.createTempDirectory("r1kit-plugin");
            tmp.toFile().deleteOnExit();
            built = compileJar(tmp);
        }
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        return Files.copy(built, plugins.resolve("concise-answer.jar"));
    }

    private static Path compileJar(Path dir) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        if (javac == null) throw new IllegalStateException("tests need a JDK (javax.tools compiler), not a JRE");
        Path src = ExamplesDir.find().resolve("ConciseAnswerReward.java");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac failed: " + err);
        return jar(classes, dir.resolve("concise-answer.jar"));
    }

    static Path jar(Path classes, Path jar) throws Exception {
        try (OutputStream fo = Files.newOutputStream(jar); JarOutputStream jo = new JarOutputStream(fo)) {
            try (var files = Files.walk(classes)) {
                for (Path p : files.filter(Files::isRegularFile).toList()) {
                    jo.putNextEntry(new ZipEntry(classes.relativize(p).toString().replace('\\', '/')));
                    jo.write(Files.readAllBytes(p));
                    jo.closeEntry();
                }
            }
        }
        return jar;
    }

    @Test
    void classFromPluginsJarLoadsFromYaml(@TempDir Path dir) throws Exception {
        buildPluginJar(dir);
        Path yaml = dir.resolve("rewards.yaml");
        Files.copy(ExamplesDir.find().resolve("java-reward.yaml"), yaml);
        // the class is not on the test class path: only the plugins/ jar next to the YAML has it
        assertThrowsClassNotFound();
        try (CompositeReward c = CompositeReward.fromConfig(RewardConfig.load(yaml), List.of(), List.of())) {
            assertEquals(List.of("accuracy", "format", "ConciseAnswerReward"), c.names());
            RewardBatchResult r = c.score(List.of(
                    Completion.of("<think>ok</think><answer>42</answer>", Map.of("answer", "42")),
                    Completion.of("<think>ok</think><answer>it is certainly forty-two, I am sure of it</answer>", Map.of("answer", "42")),
                    Completion.of("42", Map.of("answer", "42"))));
            assertEquals(1.0, r.value("ConciseAnswerReward", 0));
            assertEquals(0.0, r.value("ConciseAnswerReward", 1));
            assertNull(r.value("ConciseAnswerReward", 2));
            assertEquals(1.0 + 0.5 + 0.2, r.totals()[0], 1e-12);
            assertEquals(1.0, r.totals()[2], 1e-12, "accuracy only: no format, concise is null");
        }
    }

    @Test
    void classpathOptionAndCommandLine(@TempDir Path dir) throws Exception {
        Path jar = buildPluginJar(dir);
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));
        Path yaml = elsewhere.resolve("r.yaml");
        Files.writeString(yaml, "rewards:\n  - {class: com.example.rewards.ConciseAnswerReward, weight: 2.0, params: {max_chars: 3}}\n");
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.writeString(in, "{\"completion\": \"<answer>12</answer>\"}\n{\"completion\": \"<answer>1234</answer>\"}\n");
        int rc = new CommandLine(new RewardCommand()).execute("--config", yaml.toString(), "--classpath", jar.toString(),
                "--input", in.toString(), "--output", out.toString());
        assertEquals(0, rc);
        List<String> lines = Files.readAllLines(out);
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0));
        assertEquals(1.0, first.get("rewards").get("ConciseAnswerReward").asDouble());
        assertEquals(2.0, first.get("reward").asDouble());
        assertEquals(0.0, json.readTree(lines.get(1)).get("reward").asDouble());
    }

    @Test
    void providerInPluginJarIsFoundByName(@TempDir Path dir) throws Exception {
        // a RewardProvider registered through META-INF/services inside the plugin jar
        Path src = Files.createDirectories(dir.resolve("src/com/acme")).resolve("ShoutProvider.java");
        Files.writeString(src, """
                package com.acme;
                import io.r1kit.rewards.*;
                import java.util.*;
                public final class ShoutProvider implements RewardProvider {
                    public String name() { return "shout"; }
                    public RewardFunction create(RewardParams p) {
                        p.requireOnly("bonus");
                        double bonus = p.getDouble("bonus", 1.0);
                        return new RewardFunction() {
                            public String name() { return "shout"; }
                            public List<Double> score(List<Completion> b) {
                                List<Double> out = new ArrayList<>();
                                for (Completion c : b) out.add(c.text().endsWith("!") ? bonus : 0.0);
                                return out;
                            }
                        };
                    }
                }
                """);
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, javac.run(null, null, err, "-cp", System.getProperty("java.class.path"), "-d", classes.toString(), src.toString()),
                () -> "javac failed: " + err);
        Path services = Files.createDirectories(classes.resolve("META-INF/services"));
        Files.writeString(services.resolve("io.r1kit.rewards.RewardProvider"), "com.acme.ShoutProvider\n");
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        jar(classes, plugins.resolve("shout.jar"));
        Path yaml = dir.resolve("r.yaml");
        Files.writeString(yaml, "rewards:\n  - {name: shout, weight: 1.0, params: {bonus: 3}}\n");
        try (CompositeReward c = CompositeReward.fromConfig(RewardConfig.load(yaml), List.of(), List.of())) {
            RewardBatchResult r = c.score(List.of(Completion.of("yes!", Map.of()), Completion.of("no", Map.of())));
            assertEquals(3.0, r.value("shout", 0));
            assertEquals(0.0, r.value("shout", 1));
        }
        assertTrue(RewardRegistry.withPlugins(List.of(plugins), List.of()).names().contains("shout"));
        assertTrue(!RewardRegistry.builtins().names().contains("shout"));
    }

    private static void assertThrowsClassNotFound() {
        RewardConfigException e = org.junit.jupiter.api.Assertions.assertThrows(RewardConfigException.class,
                () -> RewardRegistry.builtins().createByClass("com.example.rewards.ConciseAnswerReward", Map.of()));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
    }
}
