package io.r1kit.rewards;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reward part of a YAML config: the {@code rewards:} list plus optional {@code plugins:} (a
 * directory of jars, default {@code plugins/} next to the config) and {@code classpath:} (jars or
 * class folders) from which {@code class:} rewards load.
 */
public record RewardConfig(List<RewardSpec> rewards, List<Path> pluginDirs, List<Path> classpath) {

    private static final Set<String> ENTRY_KEYS = Set.of("name", "class", "weight", "params", "timeout", "label");

    /** Reads {@code file}; the root is a map with a {@code rewards:} key (other keys are ignored). */
    public static RewardConfig load(Path file) {
        Object root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readValue(Files.readString(file), Object.class);
        } catch (IOException e) {
            throw new RewardConfigException("cannot read reward config " + file + ": " + e.getMessage(), e);
        }
        Path base = file.toAbsolutePath().getParent();
        return fromTree(root, file.toString(), base);
    }

    /** Builds from a parsed YAML/JSON tree; {@code where} names the source in errors. */
    @SuppressWarnings("unchecked")
    public static RewardConfig fromTree(Object root, String where, Path baseDir) {
        Object list = root;
        List<Path> plugins = new ArrayList<>();
        List<Path> cp = new ArrayList<>();
        if (root instanceof Map<?, ?> m) {
            if (!m.containsKey("rewards")) throw new RewardConfigException(where + ": no 'rewards:' list");
            list = m.get("rewards");
            for (String p : strings(m.get("plugins"), where + ": plugins")) plugins.add(resolve(baseDir, p));
            for (String p : strings(m.get("classpath"), where + ": classpath")) cp.add(resolve(baseDir, p));
        }
        if (!(list instanceof List<?> entries)) throw new RewardConfigException(where + ": 'rewards' must be a list, got " + list);
        if (plugins.isEmpty() && baseDir != null) plugins.add(baseDir.resolve("plugins"));
        List<RewardSpec> specs = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            Object e = entries.get(i);
            String at = where + ": rewards[" + i + "]";
            if (!(e instanceof Map<?, ?> em)) throw new RewardConfigException(at + " must be a map like {name: accuracy, weight: 1.0}, got " + e);
            for (Object k : em.keySet()) {
                if (!ENTRY_KEYS.contains(String.valueOf(k))) {
                    throw new RewardConfigException(at + ": unknown key '" + k + "' (expected " + String.join(", ", new java.util.TreeSet<>(ENTRY_KEYS)) + ")");
                }
            }
            Object w = em.containsKey("weight") ? em.get("weight") : 1.0;
            if (!(w instanceof Number wn)) throw new RewardConfigException(at + ": weight must be a number, got '" + w + "'");
            Object params = em.get("params");
            if (params != null && !(params instanceof Map)) throw new RewardConfigException(at + ": params must be a map, got " + params);
            Object timeout = em.get("timeout");
            if (timeout != null && !(timeout instanceof Number)) throw new RewardConfigException(at + ": timeout must be seconds, got '" + timeout + "'");
            try {
                specs.add(new RewardSpec(str(em.get("name")), str(em.get("class")), wn.doubleValue(),
                        params == null ? Map.of() : new LinkedHashMap<>((Map<String, Object>) params),
                        timeout == null ? null : ((Number) timeout).doubleValue(), str(em.get("label"))));
            } catch (RewardConfigException ex) {
                throw new RewardConfigException(at + ": " + ex.getMessage());
            }
        }
        if (specs.isEmpty()) throw new RewardConfigException(where + ": 'rewards' is empty");
        return new RewardConfig(List.copyOf(specs), List.copyOf(plugins), List.copyOf(cp));
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static List<String> strings(Object o, String where) {
        if (o == null) return List.of();
        if (o instanceof List<?> l) return l.stream().map(String::valueOf).toList();
        if (o instanceof String s) return List.of(s);
        throw new RewardConfigException(where + " must be a path or a list of paths, got " + o);
    }

    private static Path resolve(Path base, String p) {
        Path path = Path.of(p);
        return path.isAbsolute() || base == null ? path : base.resolve(path);
    }
}
