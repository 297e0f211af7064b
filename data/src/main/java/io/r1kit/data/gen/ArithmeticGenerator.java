package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Multi-digit arithmetic: additions, subtractions, multiplications and mixed expressions with the usual
 * precedence ({@code *} before {@code + -}, left to right).
 *
 * <p>Params (defaults): {@code digits=2} (most digits of an operand), {@code min_digits=1},
 * {@code terms=2} (operands per expression, 2..8), {@code ops=+-*} (operators to draw from; {@code +}
 * alone gives pure additions), {@code mul_digits=1} (most digits of the right operand of {@code *}, so
 * products stay within reach of a small model), {@code allow_negative=0} (1 allows negative results and
 * intermediates), {@code lang=en} (en | ru: language of the question), {@code holdout=0.1} (share of
 * all problems, chosen by a fixed hash of the expression, kept out of training) and {@code part=all}
 * (all | train | test: which problems to draw; RL prompts take train, evaluation takes test, and the
 * toy corpora draw from train by default, so evaluation is on problems the model never saw).
 * Record: {@code id, prompt, answer, expression, language, default_rewards}.
 */
public final class ArithmeticGenerator implements TaskGenerator {
    public static final String NAME = "arithmetic";

    private final long seed;
    private final Problems problems;
    private final Lang lang;

    public ArithmeticGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        this.problems = new Problems(p);
        this.lang = Lang.parse(p.getString("lang", "en"));
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() { return List.of("accuracy", "format"); }

    @Override
    public Map<String, Object> generate(long index) {
        Expr e = problems.sample(Seeds.forExample(NAME, seed, index));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("prompt", lang.question(Expr.render(e, "")));
        m.put("answer", Long.toString(e.value()));
        m.put("expression", Expr.render(e, ""));
        m.put("language", lang.code);
        m.put("default_rewards", defaultRewards());
        return m;
    }

    /** The problem sampler with its difficulty knobs; shared by every generator that poses arithmetic. */
    public static final class Problems {
        final int digits, minDigits, terms, mulDigits;
        final char[] ops;
        final boolean allowNegative;
        final double holdout;
        final String part;

        /** Problems of every part by default. */
        public Problems(GeneratorParams p) {
            this(p, "all");
        }

        /**
         * {@code defaultPart} is the part drawn from when the {@code part} param is not given: "all",
         * "train" (problems outside the held-out share) or "test" (only the held-out share).
         */
        public Problems(GeneratorParams p, String defaultPart) {
            digits = p.getInt("digits", 2, 1, 9);
            minDigits = p.getInt("min_digits", 1, 1, 9);
            terms = p.getInt("terms", 2, 2, 8);
            mulDigits = p.getInt("mul_digits", 1, 1, 9);
            allowNegative = p.getInt("allow_negative", 0, 0, 1) == 1;
            String o = p.getString("ops", "+-*");
            if (o.isEmpty() || !o.chars().allMatch(c -> "+-*".indexOf(c) >= 0)) {
                throw new DatasetException("arithmetic: ops='" + o + "' must be a non-empty subset of +-*");
            }
            if (minDigits > digits) throw new DatasetException("arithmetic: min_digits " + minDigits + " > digits " + digits);
            ops = o.toCharArray();
            holdout = p.getRate("holdout", 0.1);
            part = p.getString("part", defaultPart);
            if (!List.of("all", "train", "test").contains(part)) {
                throw new DatasetException("arithmetic: part='" + part + "' must be all, train or test");
            }
            if (part.equals("test") && holdout == 0) throw new DatasetException("arithmetic: part=test needs holdout > 0");
            if (part.equals("train") && holdout == 1) throw new DatasetException("arithmetic: part=train needs holdout < 1");
        }

        /**
         * True when the expression is in the held-out share: a fixed hash of its text, the same in every
         * run and generator, so held-out problems never appear in a corpus generated with part=train.
         */
        public boolean isHeldOut(Expr e) {
            long h = Seeds.fmix(Expr.render(e, "").hashCode() * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL);
            return Long.remainderUnsigned(h, 1_000_000) < Math.round(holdout * 1_000_000);
        }

        /** A random expression; with allow_negative=0 every intermediate and the result are >= 0. */
        public Expr sample(SplittableRandom r) {
            for (int tries = 0; tries < 1_000_000; tries++) {
                char[] opsOf = new char[terms - 1];
                for (int i = 0; i < opsOf.length; i++) opsOf[i] = ops[r.nextInt(ops.length)];
                long[] nums = new long[terms];
                for (int i = 0; i < terms; i++) {
                    boolean mulRight = i > 0 && opsOf[i - 1] == '*';
                    int hi = mulRight ? Math.min(mulDigits, digits) : digits;
                    int lo = Math.min(minDigits, hi);
                    int d = lo + r.nextInt(hi - lo + 1);
                    long min = d == 1 ? (mulRight ? 2 : 1) : pow10(d - 1);
                    nums[i] = min + r.nextLong(pow10(d) - min);
                }
                Expr e = build(nums, opsOf);
                if (!allowNegative && !Expr.steps(e).stream().allMatch(b -> b.value() >= 0)) continue;
                if (part.equals("all") || isHeldOut(e) == part.equals("test")) return e;
            }
            throw new DatasetException("arithmetic: no problem found for part=" + part + " with holdout=" + holdout
                    + " in a million draws; the problem space (digits, terms, ops) is too small for this split");
        }

        /** Precedence: multiplications group first, then + and - left to right. */
        static Expr build(long[] nums, char[] ops) {
            List<Expr> terms = new ArrayList<>();
            List<Character> addOps = new ArrayList<>();
            Expr cur = new Expr.Num(nums[0]);
            for (int i = 0; i < ops.length; i++) {
                Expr next = new Expr.Num(nums[i + 1]);
                if (ops[i] == '*') {
                    cur = Expr.of('*', cur, next);
                } else {
                    terms.add(cur);
                    addOps.add(ops[i]);
                    cur = next;
                }
            }
            terms.add(cur);
            Expr e = terms.getFirst();
            for (int i = 0; i < addOps.size(); i++) e = Expr.of(addOps.get(i), e, terms.get(i + 1));
            return e;
        }
    }

    static long pow10(int d) {
        long p = 1;
        for (int i = 0; i < d; i++) p *= 10;
        return p;
    }
}
