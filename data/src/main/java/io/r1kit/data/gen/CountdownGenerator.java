package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Countdown, TinyZero-style: source numbers and a target to reach with {@code + - * /}, each number used
 * exactly once. Instances are built forwards, which proves them solvable: draw the numbers, then combine
 * two at a time with a random operator (no negative or zero intermediate, only exact division) until one
 * value is left; if it lies in the target range it is the target and the tree is the stored solution.
 *
 * <p>Params (defaults): {@code min_nums=3 max_nums=4} (3..6), {@code min_num=1 max_num=99},
 * {@code min_target=1 max_target=100}, {@code ops=+-*}{@code /}, {@code prompt_style=tinyzero}
 * (or {@code short}: "reach 65 with 19 36 55 7"), {@code order=any} (or {@code listed}: the numbers are combined
 * in the order they are listed, ((a op b) op c) op d, so only the operators are to be found).
 * Record: {@code id, prompt, answer (= solution), nums, target, solution, default_rewards}.
 */
public final class CountdownGenerator implements TaskGenerator {
    public static final String NAME = "countdown";
    private static final int TRIES_PER_DRAW = 200;
    private static final int MAX_DRAWS = 10_000;

    private final long seed;
    final int minNums, maxNums, minNum, maxNum, minTarget, maxTarget;
    final char[] ops;
    final String promptStyle;
    final boolean listedOrder;

    public CountdownGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        minNums = p.getInt("min_nums", 3, 3, 6);
        maxNums = p.getInt("max_nums", 4, 3, 6);
        minNum = p.getInt("min_num", 1, 1, 1_000_000);
        maxNum = p.getInt("max_num", 99, 1, 1_000_000);
        minTarget = p.getInt("min_target", 1, 1, Integer.MAX_VALUE);
        maxTarget = p.getInt("max_target", 100, 1, Integer.MAX_VALUE);
        String o = p.getString("ops", "+-*/");
        promptStyle = p.getString("prompt_style", "tinyzero");
        String order = p.getString("order", "any");
        if (!order.equals("any") && !order.equals("listed")) {
            throw new DatasetException("countdown: order='" + order + "' must be any or listed");
        }
        listedOrder = order.equals("listed");
        if (!promptStyle.equals("tinyzero") && !promptStyle.equals("short")) {
            throw new DatasetException("countdown: prompt_style='" + promptStyle + "' must be tinyzero or short");
        }
        if (minNums > maxNums) throw new DatasetException("countdown: min_nums " + minNums + " > max_nums " + maxNums);
        if (minNum > maxNum) throw new DatasetException("countdown: min_num " + minNum + " > max_num " + maxNum);
        if (minTarget > maxTarget) throw new DatasetException("countdown: min_target " + minTarget + " > max_target " + maxTarget);
        if (o.isEmpty() || !o.chars().allMatch(c -> "+-*/".indexOf(c) >= 0)) {
            throw new DatasetException("countdown: ops='" + o + "' must be a non-empty subset of +-*/");
        }
        ops = o.toCharArray();
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() { return List.of("countdown", "format"); }

    /** One instance: the numbers (in presentation order), the target, and a solution tree. */
    public record Instance(List<Integer> nums, int target, Expr solution) {
        public String solutionText() { return Expr.render(solution, " "); }
    }

    public Instance instance(long index) {
        SplittableRandom r = Seeds.forExample(NAME, seed, index);
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            int k = minNums + r.nextInt(maxNums - minNums + 1);
            List<Integer> nums = new ArrayList<>(k);
            for (int i = 0; i < k; i++) nums.add(minNum + r.nextInt(maxNum - minNum + 1));
            for (int t = 0; t < TRIES_PER_DRAW; t++) {
                Expr e = randomTree(nums, r);
                if (e != null && e.value() >= minTarget && e.value() <= maxTarget) {
                    return new Instance(List.copyOf(nums), (int) e.value(), e);
                }
            }
        }
        throw new DatasetException("countdown: found no instance with a target in " + minTarget + ".." + maxTarget
                + " after " + MAX_DRAWS + " draws; widen the target range or change the number range");
    }

    /**
     * Combines the numbers pairwise at random into one tree; null if stuck (no valid operator). The
     * instances' targets come from this distribution, and so do the attempts of search traces.
     */
    Expr randomTree(List<Integer> nums, SplittableRandom r) {
        if (listedOrder) {
            Expr acc = new Expr.Num(nums.getFirst());
            char[] valid = new char[4];
            for (int i = 1; i < nums.size(); i++) {
                Expr b = new Expr.Num(nums.get(i));
                int nv = validOps(acc, b, valid);
                if (nv == 0) return null;
                acc = Expr.of(valid[r.nextInt(nv)], acc, b);
            }
            return acc;
        }
        List<Expr> pool = new ArrayList<>(nums.size());
        for (int n : nums) pool.add(new Expr.Num(n));
        char[] valid = new char[4];
        while (pool.size() > 1) {
            int i = r.nextInt(pool.size());
            int j = r.nextInt(pool.size() - 1);
            if (j >= i) j++;
            Expr a = pool.get(i), b = pool.get(j);
            int nv = validOps(a, b, valid);
            if (nv == 0) return null;
            Expr c = Expr.of(valid[r.nextInt(nv)], a, b);
            pool.remove(Math.max(i, j));
            pool.remove(Math.min(i, j));
            pool.add(c);
        }
        return pool.getFirst();
    }

    /** Fills {@code valid} with the operators allowed on (a, b): no negative or zero result, exact division, bounded products. */
    private int validOps(Expr a, Expr b, char[] valid) {
        int nv = 0;
        for (char op : ops) {
            boolean ok = switch (op) {
                case '-' -> a.value() > b.value();
                case '/' -> b.value() > 1 && a.value() % b.value() == 0;
                case '*' -> a.value() * b.value() <= 10L * Math.max(maxTarget, maxNum);
                default -> true;
            };
            if (ok) valid[nv++] = op;
        }
        return nv;
    }

    /** The TinyZero task statement, without its answer-format instructions (templates add those). */
    public static String question(List<Integer> nums, int target) {
        return "Using the numbers " + nums + ", create an equation that equals " + target
                + ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once.";
    }

    /**
     * The question in this generator's {@code prompt_style}: {@code tinyzero} (the full task statement)
     * or {@code short} ({@code "reach 65 with 19 36 55 7"}, for tiny models with short contexts).
     */
    public String questionOf(Instance in) {
        if (promptStyle.equals("short")) {
            StringBuilder sb = new StringBuilder("reach ").append(in.target()).append(" with");
            for (int n : in.nums()) sb.append(' ').append(n);
            return sb.toString();
        }
        return question(in.nums(), in.target());
    }

    @Override
    public Map<String, Object> generate(long index) {
        Instance in = instance(index);
        String sol = in.solutionText();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("prompt", questionOf(in));
        m.put("answer", sol);
        m.put("nums", in.nums());
        m.put("target", in.target());
        m.put("solution", sol);
        m.put("default_rewards", defaultRewards());
        return m;
    }
}
