package io.r1kit.pipeline.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StrictYamlTest {

    enum LossType { GRPO, DR_GRPO, DAPO }

    record Stage(String name, String type, Double beta, Integer numGenerations, LossType lossType) {}

    record Run(String name, int seed, List<Stage> stages) {}

    private static final String YAML = """
            name: demo
            seed: 3
            stages:
              - name: pre
                type: pretrain
              - name: r1_zero
                type: grpo
                beta: 0.0
                num_generations: 8
                loss_type: dr_grpo
            """;

    @Test
    void bindsSnakeCaseKeysIntoRecords() {
        Run run = StrictYaml.load(YAML, "c.yaml", Run.class, List.of()).value();
        assertEquals("demo", run.name());
        assertEquals(8, run.stages().get(1).numGenerations());
        assertEquals(LossType.DR_GRPO, run.stages().get(1).lossType());
    }

    @Test
    void unknownKeyNamesFileLineKeyAndSuggestion() {
        String bad = YAML.replace("    beta: 0.0", "    betta: 0.0");
        ConfigException e = assertThrows(ConfigException.class, () -> StrictYaml.load(bad, "c.yaml", Run.class, List.of()));
        assertTrue(e.getMessage().startsWith("c.yaml:8:5: unknown key 'stages[1].betta'"), e.getMessage());
        assertTrue(e.getMessage().contains("Did you mean 'beta'?"), e.getMessage());
    }

    @Test
    void keyWrittenTwiceInOneMappingIsRefusedWithBothLines() {
        String twice = YAML.replace("    beta: 0.0\n", "    beta: 0.0\n    num_generations: 4\n");
        ConfigException e = assertThrows(ConfigException.class, () -> StrictYaml.load(twice, "c.yaml", Run.class, List.of()));
        assertTrue(e.getMessage().startsWith("c.yaml:10: key 'num_generations'"), e.getMessage());
        assertTrue(e.getMessage().contains("on lines 9 and 10"), e.getMessage());
    }

    @Test
    void sameKeyInDifferentMappingsIsFine() {
        Run run = StrictYaml.load(YAML, "c.yaml", Run.class, List.of()).value();
        assertEquals("pre", run.stages().get(0).name());
        assertEquals("r1_zero", run.stages().get(1).name());
    }

    @Test
    void badEnumListsAllowedValues() {
        String bad = YAML.replace("loss_type: dr_grpo", "loss_type: dr_grop");
        ConfigException e = assertThrows(ConfigException.class, () -> StrictYaml.load(bad, "c.yaml", Run.class, List.of()));
        assertTrue(e.getMessage().contains("c.yaml:10:"), e.getMessage());
        assertTrue(e.getMessage().contains("allowed: grpo, dr_grpo, dapo"), e.getMessage());
        assertTrue(e.getMessage().contains("Did you mean 'dr_grpo'?"), e.getMessage());
    }

    @Test
    void wrongTypeIsReported() {
        String bad = YAML.replace("num_generations: 8", "num_generations: many");
        ConfigException e = assertThrows(ConfigException.class, () -> StrictYaml.load(bad, "c.yaml", Run.class, List.of()));
        assertTrue(e.getMessage().contains("c.yaml:9:") && e.getMessage().contains("stages[1].num_generations") && e.getMessage().contains("expected a whole number"), e.getMessage());
    }

    @Test
    void overridesAddressListElementsByName() {
        var loaded = StrictYaml.load(YAML, "c.yaml", Run.class, List.of("stages.r1_zero.beta=0.04", "seed=7"));
        assertEquals(0.04, loaded.value().stages().get(1).beta());
        assertEquals(7, loaded.value().seed());
        ConfigException e = assertThrows(ConfigException.class,
                () -> StrictYaml.load(YAML, "c.yaml", Run.class, List.of("stages.r1_zeor.beta=1")));
        assertTrue(e.getMessage().contains("Did you mean 'r1_zero'?"), e.getMessage());
        ConfigException typo = assertThrows(ConfigException.class,
                () -> StrictYaml.load(YAML, "c.yaml", Run.class, List.of("stages.r1_zero.betta=1")));
        assertTrue(typo.getMessage().startsWith("--set stages.r1_zero.betta=1: unknown key"), typo.getMessage());
    }

    @Test
    void referencesKeepTypesAndInterpolateStrings() {
        String yaml = YAML.replace("name: demo", "name: demo-${seed}").replace("num_generations: 8", "num_generations: ${seed}");
        Run run = StrictYaml.load(yaml, "c.yaml", Run.class, List.of()).value();
        assertEquals("demo-3", run.name());
        assertEquals(3, run.stages().get(1).numGenerations());
        String cyclic = "name: ${name}\nseed: 1\nstages: []\n";
        assertThrows(ConfigException.class, () -> StrictYaml.load(cyclic, "c.yaml", Run.class, List.of()));
    }

    @Test
    void suggestionNeedsACloseName() {
        assertEquals("beta", DidYouMean.suggest("betta", List.of("beta", "epsilon")).orElseThrow());
        assertTrue(DidYouMean.suggest("zzzz", List.of("beta", "epsilon")).isEmpty());
    }
}
