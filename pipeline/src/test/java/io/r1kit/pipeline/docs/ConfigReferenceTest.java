package io.r1kit.pipeline.docs;

import io.r1kit.grpo.GrpoConfig;
import io.r1kit.grpo.config.Doc;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** docs/config.md is generated from the config records; it must be current and every option documented. */
class ConfigReferenceTest {

    /** The committed page, relative to the module directory the tests run in. */
    private static final Path PAGE = Path.of("..", "docs", "config.md");

    @Test
    void committedPageIsCurrent() throws Exception {
        assertTrue(Files.isRegularFile(PAGE), PAGE.toAbsolutePath() + " is missing: run `bin/r1kit docs config`");
        String committed = Files.readString(PAGE, StandardCharsets.UTF_8);
        if (!committed.equals(ConfigReference.markdown())) {
            fail(PAGE.toAbsolutePath().normalize() + " is stale: a config option, its @Doc or its default changed. "
                    + "Regenerate it with `bin/r1kit docs config` and commit it.");
        }
    }

    @Test
    void everyOptionOfEverySectionIsDocumentedWithItsDefault() {
        for (ConfigReference.Section s : ConfigReference.sections()) {
            List<ConfigReference.Option> opts = ConfigReference.options(s);
            assertEquals(s.record().getRecordComponents().length, opts.size(), s.title());
            for (ConfigReference.Option o : opts) {
                assertFalse(o.doc().isBlank(), s.title() + " " + o.key());
                assertFalse(o.defaultText().isBlank(), s.title() + " " + o.key());
            }
        }
    }

    @Test
    void defaultsComeFromTheCode() {
        GrpoConfig d = GrpoConfig.defaults();
        var grpo = ConfigReference.sections().stream().filter(s -> s.record() == GrpoConfig.class).findFirst().orElseThrow();
        for (ConfigReference.Option o : ConfigReference.options(grpo)) {
            switch (o.key()) {
                case "num_generations" -> assertEquals("`" + d.numGenerations() + "`", o.defaultText());
                case "learning_rate" -> assertEquals("`1e-6`", o.defaultText());
                case "loss_type" -> assertEquals("`grpo`", o.defaultText());
                case "epsilon_high" -> assertEquals("= `epsilon`", o.defaultText());
                case "seed" -> assertEquals("`42`", o.defaultText());
                default -> { }
            }
        }
    }

    /** Every record reachable from a section's options (a nested {@code sampling:}, {@code sft:}) has a section too. */
    @Test
    void nestedRecordsHaveTheirOwnSection() {
        Set<Class<?>> documented = new HashSet<>();
        for (ConfigReference.Section s : ConfigReference.sections()) documented.add(s.record());
        for (ConfigReference.Section s : ConfigReference.sections()) {
            for (var c : s.record().getRecordComponents()) {
                Class<?> t = c.getType();
                if (t.isRecord() && t.getRecordComponents().length > 0 && t.getRecordComponents()[0].isAnnotationPresent(Doc.class)) {
                    assertTrue(documented.contains(t), s.title() + " ." + c.getName() + ": " + t.getName() + " has no section");
                }
            }
        }
    }

    record Undocumented(@Doc("documented") Integer a, Integer b) {
        Undocumented {
            if (a == null) a = 1;
            if (b == null) b = 2;
        }
    }

    record NullDefault(@Doc("no default and no word on it") String a) {}

    @Test
    void anOptionWithoutDocOrWithAnUnexplainedNullFailsNamingIt() {
        var e = assertThrows(IllegalStateException.class,
                () -> ConfigReference.options(new ConfigReference.Section("x", "x", "x", Undocumented.class, Map.of())));
        assertTrue(e.getMessage().contains("Undocumented.b") && e.getMessage().contains("has no @Doc"), e.getMessage());
        var n = assertThrows(IllegalStateException.class,
                () -> ConfigReference.options(new ConfigReference.Section("x", "x", "x", NullDefault.class, Map.of())));
        assertTrue(n.getMessage().contains("NullDefault.a") && n.getMessage().contains("unset"), n.getMessage());
    }

    @Test
    void numbersAreWrittenAsInYaml() {
        assertEquals("`1e-8`", ConfigReference.format(1e-8));
        assertEquals("`0.999`", ConfigReference.format(0.999));
        assertEquals("`1.0`", ConfigReference.format(1.0));
        assertEquals("`-1`", ConfigReference.format(-1));
        assertEquals("`0.0`", ConfigReference.format(0.0));
    }
}
