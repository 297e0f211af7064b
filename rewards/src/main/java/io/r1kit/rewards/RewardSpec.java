package io.r1kit.rewards;

import java.util.Map;

/**
 * One entry of the YAML {@code rewards:} list:
 * <pre>
 * rewards:
 *   - {name: accuracy, weight: 1.0}
 *   - {name: format, weight: 0.5, params: {...}}
 *   - {class: com.acme.MyReward, weight: 0.2, params: {...}, timeout: 30}
 * </pre>
 *
 * @param name           registered name (null when {@code className} is given)
 * @param className      fully qualified class name (null when {@code name} is given)
 * @param weight         weight in the sum
 * @param params         reward-specific params
 * @param timeoutSeconds per-batch time limit; null means the composite's default
 * @param label          name used in metrics and output; null means name or the class' simple name
 */
public record RewardSpec(String name, String className, double weight, Map<String, Object> params, Double timeoutSeconds,
                         String label) {

    public RewardSpec {
        if ((name == null) == (className == null)) {
            throw new RewardConfigException("a reward needs exactly one of 'name' or 'class' (got name=" + name + ", class=" + className + ")");
        }
        if (!Double.isFinite(weight)) throw new RewardConfigException("reward '" + (name != null ? name : className) + "': weight must be a finite number");
        params = params == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(params));
        if (timeoutSeconds != null && !(timeoutSeconds > 0)) {
            throw new RewardConfigException("reward '" + (name != null ? name : className) + "': timeout must be > 0 seconds");
        }
    }

    public static RewardSpec named(String name, double weight) {
        return new RewardSpec(name, null, weight, Map.of(), null, null);
    }

    public static RewardSpec named(String name, double weight, Map<String, Object> params) {
        return new RewardSpec(name, null, weight, params, null, null);
    }

    /** The label used for metrics keys and output JSON. */
    public String displayName() {
        if (label != null) return label;
        if (name != null) return name;
        int dot = className.lastIndexOf('.');
        return className.substring(dot + 1);
    }
}
