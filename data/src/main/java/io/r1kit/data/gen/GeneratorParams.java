package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The {@code --param k=v} knobs of a generator. Each typed getter names its default; after a generator
 * has read its knobs, {@link #checkAllUsed} rejects keys nobody asked for (typos), listing the known ones.
 */
public final class GeneratorParams {
    private final Map<String, String> values;
    private final Map<String, String> known = new LinkedHashMap<>();

    public GeneratorParams(Map<String, String> values) {
        this.values = new LinkedHashMap<>(values);
    }

    public static GeneratorParams empty() {
        return new GeneratorParams(Map.of());
    }

    /** Parses {@code k=v} strings (as the command line gives them). */
    public static GeneratorParams parse(Iterable<String> kvs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : kvs) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new DatasetException("--param '" + kv + "' must look like key=value");
            m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        return new GeneratorParams(m);
    }

    public GeneratorParams with(String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(values);
        m.put(key, value);
        return new GeneratorParams(m);
    }

    public String getString(String key, String dflt) {
        known.put(key, dflt);
        return values.getOrDefault(key, dflt);
    }

    public int getInt(String key, int dflt, int min, int max) {
        known.put(key, String.valueOf(dflt));
        String v = values.get(key);
        if (v == null) return dflt;
        int x;
        try {
            x = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new DatasetException("param " + key + "=" + v + " must be an integer");
        }
        if (x < min || x > max) throw new DatasetException("param " + key + "=" + v + " must be in " + min + ".." + max);
        return x;
    }

    /** A probability or rate in [0, 1]. */
    public double getRate(String key, double dflt) {
        known.put(key, String.valueOf(dflt));
        String v = values.get(key);
        if (v == null) return dflt;
        double x;
        try {
            x = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new DatasetException("param " + key + "=" + v + " must be a number in [0, 1]");
        }
        if (!(x >= 0 && x <= 1)) throw new DatasetException("param " + key + "=" + v + " must be in [0, 1]");
        return x;
    }

    /** The knobs read so far with their defaults (for help and the README). */
    public Map<String, String> knownWithDefaults() {
        return Map.copyOf(known);
    }

    public void checkAllUsed(String task) {
        for (String k : values.keySet()) {
            if (!known.containsKey(k)) {
                throw new DatasetException("task '" + task + "' has no param '" + k + "'; its params are "
                        + new TreeSet<>(known.keySet()));
            }
        }
    }
}
