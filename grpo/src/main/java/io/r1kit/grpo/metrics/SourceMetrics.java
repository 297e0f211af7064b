package io.r1kit.grpo.metrics;

import io.r1kit.grpo.rollout.Rollouts;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-source reward metrics of a step over a mixed prompt set (all-scenario RL: reasoning prompts
 * scored by rules, general prompts by a reward model). An example's source is its {@code source}
 * column (written by the pipeline's {@code mix:} data sets); prompt sets without it add nothing.
 * For each source S: {@code rewards/S/mean} (mean total reward of its samples), {@code rewards/S/count}
 * (samples), and {@code rewards/S/<reward>} (mean of each reward over the samples it applies to).
 * A source named like a reward gets the prefix {@code source_} so the keys never collide with
 * {@code rewards/<reward>/mean}.
 */
public final class SourceMetrics {
    public static final String COLUMN = "source";

    private SourceMetrics() {}

    public static void put(Map<String, Object> m, List<Rollouts.Sample> all, List<String> rewardNames) {
        Map<String, double[]> total = new TreeMap<>();               // source → {count, sum}
        Map<String, double[][]> per = new TreeMap<>();               // source → reward → {count, sum}
        for (Rollouts.Sample s : all) {
            Object src = s.prompt().example().get(COLUMN);
            if (src == null) continue;
            String k = src.toString();
            double[] t = total.computeIfAbsent(k, x -> new double[2]);
            t[0]++;
            t[1] += s.reward();
            double[][] p = per.computeIfAbsent(k, x -> new double[rewardNames.size()][2]);
            for (int f = 0; f < rewardNames.size(); f++) {
                Double v = s.rewardValues()[f];
                if (v == null) continue;
                p[f][0]++;
                p[f][1] += v;
            }
        }
        total.forEach((src, t) -> {
            String key = "rewards/" + (rewardNames.contains(src) ? "source_" + src : src);
            m.put(key + "/mean", t[1] / t[0]);
            m.put(key + "/count", (long) t[0]);
            double[][] p = per.get(src);
            for (int f = 0; f < rewardNames.size(); f++) {
                if (p[f][0] > 0) m.put(key + "/" + rewardNames.get(f), p[f][1] / p[f][0]);
            }
        });
    }
}
