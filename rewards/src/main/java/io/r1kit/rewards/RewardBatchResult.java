package io.r1kit.rewards;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores of one batch.
 *
 * @param names   reward labels, in config order
 * @param weights weight of each reward
 * @param values  values.get(f).get(i): reward f for completion i (null = not applicable or failed)
 * @param totals  weighted sum per completion, nulls left out (0 when every reward is null)
 * @param metrics {@code rewards/<name>/mean}, {@code rewards/<name>/std}, {@code rewards/<name>/errors},
 *                extra {@code rewards/<name>/<counter>}, {@code reward}, {@code reward_std}
 */
public record RewardBatchResult(List<String> names, double[] weights, List<List<Double>> values, double[] totals,
                                Map<String, Double> metrics) {

    public int size() {
        return totals.length;
    }

    /** Value of reward {@code name} for completion {@code i} (null when not applicable). */
    public Double value(String name, int i) {
        int f = names.indexOf(name);
        if (f < 0) throw new IllegalArgumentException("no reward named '" + name + "' in " + names);
        return values.get(f).get(i);
    }

    /** name -> value (null kept) for completion {@code i}, in config order. */
    public Map<String, Double> perCompletion(int i) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (int f = 0; f < names.size(); f++) out.put(names.get(f), values.get(f).get(i));
        return out;
    }
}
