package io.r1kit.rewards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RewardConfigTest {

    @Test
    void readsTheYamlForm(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.yaml");
        Files.writeString(f, """
                rewards:
                  - {name: accuracy, weight: 1.0}
                  - {name: format, weight: 0.5, params: {think_in_prompt: "false"}}
                  - {class: com.acme.MyReward, weight: 0.2, params: {scale: 3}, timeout: 5}
                """);
        RewardConfig c = RewardConfig.load(f);
        assertEquals(3, c.rewards().size());
        assertEquals("accuracy", c.rewards().get(0).name());
        assertEquals(0.5, c.rewards().get(1).weight());
        assertEquals("false", c.rewards().get(1).params().get("think_in_prompt"));
        assertEquals("com.acme.MyReward", c.rewards().get(2).className());
        assertNull(c.rewards().get(2).name());
        assertEquals("MyReward", c.rewards().get(2).displayName());
        assertEquals(5.0, c.rewards().get(2).timeoutSeconds());
        assertEquals(dir.resolve("plugins"), c.pluginDirs().get(0));
    }

    @Test
    void errorsNameTheEntryAndKey(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "rewards:\n  - {name: accuracy, wieght: 1.0}\n");
        RewardConfigException e = assertThrows(RewardConfigException.class, () -> RewardConfig.load(f));
        assertTrue(e.getMessage().contains("rewards[0]") && e.getMessage().contains("wieght"), e.getMessage());
        Files.writeString(f, "rewards:\n  - {name: accuracy, class: x.Y}\n");
        e = assertThrows(RewardConfigException.class, () -> RewardConfig.load(f));
        assertTrue(e.getMessage().contains("exactly one of 'name' or 'class'"), e.getMessage());
        Files.writeString(f, "rewards:\n  - {name: accuracy, weight: heavy}\n");
        e = assertThrows(RewardConfigException.class, () -> RewardConfig.load(f));
        assertTrue(e.getMessage().contains("weight must be a number"), e.getMessage());
        Files.writeString(f, "other: 1\n");
        e = assertThrows(RewardConfigException.class, () -> RewardConfig.load(f));
        assertTrue(e.getMessage().contains("no 'rewards:'"), e.getMessage());
    }
}
