package io.r1kit.pipeline.findings;

import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rule that decides a finding: checks, each comparing two measured quantities (or one against a
 * constant), all of which must pass, over at least {@code min_seeds} seeds. Every quantity is read
 * from the runs' own files ({@code metrics.jsonl}, {@code eval/<stage>.json}), never typed in.
 *
 * <pre>
 * rule:
 *   min_seeds: 3                       # fewer seeds run: the finding does not hold (default 1)
 *   checks:
 *     - name: length grows
 *       left:  {variant: base, metric: completions/mean_length, over: last 10%}
 *       right: {variant: base, metric: completions/mean_length, over: first 10%}
 *       ratio_at_least: 1.5            # left / right ≥ 1.5
 *       require: [mean, same_direction]
 *     - name: equal accuracy
 *       left:  {variant: loss_type=grpo, metric: accuracy, eval: final_eval}
 *       right: {variant: loss_type=dr_grpo, metric: accuracy, eval: final_eval}
 *       abs_difference_at_most: 0.03
 * </pre>
 *
 * @param minSeeds seeds each variant must have run for the finding to hold (default 1)
 * @param checks   the checks; the finding holds when every one passes
 */
public record Rule(Integer minSeeds, List<Check> checks) {
    public Rule {
        if (minSeeds == null) minSeeds = 1;
        if (minSeeds < 1) throw new IllegalArgumentException("rule.min_seeds must be ≥ 1, got " + minSeeds);
        if (checks == null || checks.isEmpty()) throw new IllegalArgumentException("rule.checks needs at least one check");
        checks = List.copyOf(checks);
    }

    /** Where a requirement is tested. */
    public enum Require {
        /** the comparison of the two sides' means over seeds */
        MEAN,
        /** the comparison on every seed (left seed s against right seed s) */
        EVERY_SEED,
        /** every seed's left differs from its right in the claimed direction (left &gt; right for "at least" checks) */
        SAME_DIRECTION
    }

    /**
     * One check: {@code left} compared with {@code right} by exactly one comparison.
     *
     * @param name                     what the check says, in words (shown in the report)
     * @param left                     the measured quantity on the left
     * @param right                    the quantity it is compared with (omit for {@code at_least}/{@code at_most})
     * @param ratioAtLeast             left / right ≥ this
     * @param ratioBetween             [lo, hi]: lo ≤ left / right ≤ hi
     * @param differenceAtLeast        left − right ≥ this
     * @param differenceAtMost         left − right ≤ this
     * @param absDifferenceAtMost      |left − right| ≤ this
     * @param differenceMoreThanSpread true: mean(left) − mean(right) &gt; the seeds' spread, the larger of the two
     *                                 sides' sample standard deviations over seeds (on the mean only)
     * @param atLeast                  left ≥ this (no right side)
     * @param atMost                   left ≤ this (no right side)
     * @param require                  where the comparison must hold: {@code mean} (default), {@code every_seed},
     *                                 {@code same_direction}
     */
    public record Check(String name, Quantity left, Quantity right, Double ratioAtLeast, List<Double> ratioBetween,
                        Double differenceAtLeast, Double differenceAtMost, Double absDifferenceAtMost,
                        Boolean differenceMoreThanSpread, Double atLeast, Double atMost, List<Require> require) {
        public Check {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("every rule check needs a 'name'");
            if (left == null) throw new IllegalArgumentException("check '" + name + "' needs 'left' (the measured quantity)");
            int n = count(ratioAtLeast, ratioBetween, differenceAtLeast, differenceAtMost, absDifferenceAtMost,
                    Boolean.TRUE.equals(differenceMoreThanSpread) ? true : null, atLeast, atMost);
            if (n != 1) {
                throw new IllegalArgumentException("check '" + name + "' needs exactly one comparison of: ratio_at_least, ratio_between, "
                        + "difference_at_least, difference_at_most, abs_difference_at_most, difference_more_than_spread, at_least, at_most"
                        + " (found " + n + ")");
            }
            boolean unary = atLeast != null || atMost != null;
            if (unary && right != null) throw new IllegalArgumentException("check '" + name + "': at_least/at_most compare 'left' with a constant; drop 'right'");
            if (!unary && right == null) throw new IllegalArgumentException("check '" + name + "' needs 'right' (what 'left' is compared with)");
            if (ratioBetween != null && (ratioBetween.size() != 2 || ratioBetween.get(0) > ratioBetween.get(1))) {
                throw new IllegalArgumentException("check '" + name + "': ratio_between needs [lo, hi] with lo ≤ hi, got " + ratioBetween);
            }
            require = require == null || require.isEmpty() ? List.of(Require.MEAN) : List.copyOf(require);
            if (Boolean.TRUE.equals(differenceMoreThanSpread) && !require.equals(List.of(Require.MEAN))) {
                throw new IllegalArgumentException("check '" + name + "': difference_more_than_spread compares the means; require: [mean] only");
            }
            boolean oneSided = ratioAtLeast != null || differenceAtLeast != null || Boolean.TRUE.equals(differenceMoreThanSpread);
            if (require.contains(Require.SAME_DIRECTION) && !oneSided) {
                throw new IllegalArgumentException("check '" + name + "': same_direction needs a one-sided comparison "
                        + "(ratio_at_least, difference_at_least, difference_more_than_spread)");
            }
        }

        private static int count(Object... xs) {
            int n = 0;
            for (Object x : xs) if (x != null) n++;
            return n;
        }

        /** The comparison in words, e.g. "left / right ≥ 1.5". */
        String comparison() {
            if (ratioAtLeast != null) return "left / right ≥ " + num(ratioAtLeast);
            if (ratioBetween != null) return num(ratioBetween.get(0)) + " ≤ left / right ≤ " + num(ratioBetween.get(1));
            if (differenceAtLeast != null) return "left − right ≥ " + num(differenceAtLeast);
            if (differenceAtMost != null) return "left − right ≤ " + num(differenceAtMost);
            if (absDifferenceAtMost != null) return "|left − right| ≤ " + num(absDifferenceAtMost);
            if (atLeast != null) return "left ≥ " + num(atLeast);
            if (atMost != null) return "left ≤ " + num(atMost);
            return "mean(left) − mean(right) > spread over seeds";
        }

        /** The compared value (ratio or difference, or left itself) of one pair. */
        double value(double l, double r) {
            if (ratioAtLeast != null || ratioBetween != null) return l / r;
            if (atLeast != null || atMost != null) return l;
            if (absDifferenceAtMost != null) return Math.abs(l - r);
            return l - r;
        }

        /** Whether a pair passes ({@code spread} is used by difference_more_than_spread only). */
        boolean passes(double l, double r, double spread) {
            double v = value(l, r);
            // growth from exactly 0 (e.g. a reflection rate that starts at 0) is an unbounded ratio
            if (ratioAtLeast != null && r == 0 && l > 0) return true;
            if (!Double.isFinite(v)) return false;
            if (ratioAtLeast != null) return v >= ratioAtLeast;
            if (ratioBetween != null) return v >= ratioBetween.get(0) && v <= ratioBetween.get(1);
            if (differenceAtLeast != null) return v >= differenceAtLeast;
            if (differenceAtMost != null) return v <= differenceAtMost;
            if (absDifferenceAtMost != null) return v <= absDifferenceAtMost;
            if (atLeast != null) return v >= atLeast;
            if (atMost != null) return v <= atMost;
            return v > spread;
        }
    }

    /**
     * A measured quantity of every seed of one variant.
     *
     * @param variant the ablation variant as the ablation runner names it (e.g. {@code loss_type=dr_grpo}); may be
     *                omitted when the finding has one variant
     * @param metric  a key of {@code metrics.jsonl} (e.g. {@code entropy}, {@code eval/pass@k}), or of the eval file
     *                when {@code eval} is given (e.g. {@code accuracy}, {@code pass@k}, {@code train/flops})
     * @param stage   the stage whose metrics rows are read (default: the ablation's train stage)
     * @param eval    read {@code eval/<this>.json} instead of the metrics rows
     * @param over    the window of the stage's rows that have the metric: {@code first N%}, {@code last N%},
     *                {@code final} (the last value) or {@code all} (default {@code final}); not with {@code eval}
     */
    public record Quantity(String variant, String metric, String stage, String eval, String over) {
        private static final Pattern WINDOW = Pattern.compile("(first|last) (\\d+(?:\\.\\d+)?)%");

        public Quantity {
            if (metric == null || metric.isBlank()) throw new IllegalArgumentException("every quantity needs a 'metric'");
            if (eval != null && (over != null || stage != null)) {
                throw new IllegalArgumentException("quantity '" + metric + "': 'eval' reads one value from eval/" + eval
                        + ".json; 'over' and 'stage' apply to metrics.jsonl rows only");
            }
            if (eval == null) {
                if (over == null) over = "final";
                if (!over.equals("final") && !over.equals("all") && !WINDOW.matcher(over).matches()) {
                    throw new IllegalArgumentException("quantity '" + metric + "': over must be 'first N%', 'last N%', 'final' or 'all', got '" + over + "'");
                }
                Matcher m = WINDOW.matcher(over);
                if (m.matches()) {
                    double pct = Double.parseDouble(m.group(2));
                    if (pct <= 0 || pct > 100) throw new IllegalArgumentException("quantity '" + metric + "': window " + over + " must be in (0, 100]%");
                }
            }
        }

        /** Aggregates a stage's values (in step order) over the window. */
        double aggregate(List<Double> values) {
            int n = values.size();
            if (n == 0) return Double.NaN;
            if (over.equals("final")) return values.get(n - 1);
            int from = 0, to = n;
            Matcher m = WINDOW.matcher(over);
            if (m.matches()) {
                int k = Math.max(1, (int) Math.round(n * Double.parseDouble(m.group(2)) / 100));
                k = Math.min(k, n);
                if (m.group(1).equals("first")) to = k;
                else from = n - k;
            }
            double sum = 0;
            for (int i = from; i < to; i++) sum += values.get(i);
            return sum / (to - from);
        }

        /** How the quantity is named in finding.json and the report, e.g. "entropy [r1_zero, last 10%]". */
        String label(String defaultStage) {
            if (eval != null) return metric + " [eval/" + eval + ".json]";
            return metric + " [" + (stage != null ? stage : defaultStage) + ", " + over + "]";
        }
    }

    static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.4g", d);
    }
}
