package io.r1kit.rewards;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code params:} map of one reward, with typed getters whose errors name the reward and key.
 *
 * @param owner  reward name for error messages
 * @param values raw values from YAML/JSON
 */
public record RewardParams(String owner, Map<String, Object> values) {

    public RewardParams {
        values = values == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static RewardParams empty(String owner) {
        return new RewardParams(owner, Map.of());
    }

    public boolean has(String key) {
        return values.containsKey(key) && values.get(key) != null;
    }

    /** Fails when a key is not one of {@code known} (catches typos such as {@code max_lenght}). */
    public RewardParams requireOnly(String... known) {
        Set<String> ok = new TreeSet<>(Arrays.asList(known));
        for (String k : values.keySet()) {
            if (!ok.contains(k)) {
                throw new RewardConfigException("reward '" + owner + "': unknown param '" + k + "'; known params: "
                        + (ok.isEmpty() ? "(none)" : String.join(", ", ok)));
            }
        }
        return this;
    }

    public double getDouble(String key, double def) {
        Object v = values.get(key);
        if (v == null) return def;
        if (v instanceof Number n) return n.doubleValue();
        try {
            return Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw bad(key, "a number", v);
        }
    }

    public int getInt(String key, int def) {
        Object v = values.get(key);
        if (v == null) return def;
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            throw bad(key, "an integer", v);
        }
    }

    public boolean getBoolean(String key, boolean def) {
        Object v = values.get(key);
        if (v == null) return def;
        if (v instanceof Boolean b) return b;
        String s = v.toString().trim().toLowerCase();
        if (s.equals("true") || s.equals("yes")) return true;
        if (s.equals("false") || s.equals("no")) return false;
        throw bad(key, "true or false", v);
    }

    public String getString(String key, String def) {
        Object v = values.get(key);
        return v == null ? def : v.toString();
    }

    /** A list of strings; a single string is a one-element list. */
    public List<String> getStringList(String key, List<String> def) {
        Object v = values.get(key);
        if (v == null) return def;
        if (v instanceof List<?> l) {
            List<String> out = new ArrayList<>();
            for (Object o : l) out.add(String.valueOf(o));
            return out;
        }
        return List.of(v.toString());
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> getMap(String key) {
        Object v = values.get(key);
        if (v == null) return Map.of();
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw bad(key, "a map", v);
    }

    public RewardConfigException bad(String key, String expected, Object got) {
        return new RewardConfigException("reward '" + owner + "': param '" + key + "' must be " + expected + ", got '" + got + "'");
    }
}
