package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The pretraining corpus of the toy universe: what turns a tiny from-scratch model into a "base model"
 * whose reasoning is latent but unreliable, the stand-in for the web text DeepSeek-V3-Base saw.
 *
 * <p>Most documents are task instances in exactly the prompt format the RL stage uses (the
 * {@code template} param, default {@code toy}: {@value PromptTemplates#TOY}) followed by a reply:
 * <ul>
 *   <li>with probability {@code format_rate} a well-formed {@code <think> … </think> <answer> … </answer>},
 *       whose answer is wrong with probability {@code error_rate} (a slip in one step that carries through,
 *       or a miscopied final answer) and which otherwise, with probability {@code self_check_rate}, shows a
 *       self-check ("wait, let me check: …" correcting a slip, or a closing inverse check);</li>
 *   <li>otherwise a malformed reply (direct answer, untagged reasoning, answer tag only, unclosed think,
 *       untagged answer); replies without reasoning are wrong with probability {@code direct_error_rate}.</li>
 * </ul>
 * Steps are symbols ({@code 47+30=77}) or, with probability {@code words_rate}, words
 * ({@code first 47 plus 30 is 77.}). A share {@code plain_rate} of documents is plain prose and facts
 * about the {@link ToyWorld} (no reasoning), and a share {@code chat_rate} is short non-reasoning
 * exchanges in the template (greetings, copying, lookups, as in the {@code nonreasoning} set). So the base model samples the format only sometimes and is
 * right only sometimes; reinforcement learning has both to fix.
 *
 * <p>Params (defaults): {@code task=arithmetic} (or countdown, with that generator's params),
 * {@code template=toy}, {@code format_rate=0.5}, {@code error_rate=0.3}, {@code self_check_rate=0.15},
 * {@code direct_error_rate=0.5}, {@code words_rate=0.3}, {@code plain_rate=0.2}, {@code chat_rate=0.05},
 * {@code world_seed=7},
 * {@code lang=en}; for countdown also {@code countdown_style=solution} (or {@code search}, see
 * {@link SearchStyle}: {@code search_rate=0.2}, {@code thorough_continue_rate=0.9},
 * {@code hasty_continue_rate=0.1}, {@code max_attempts=8}); and the arithmetic difficulty knobs (digits=2, terms=2, ops=+-*, ...; here
 * {@code part=train} by default, so held-out problems stay out of the corpus).
 * Record: {@code id, kind (reasoning|plain|chat), text}, for chat also {@code prompt, answer, default_rewards}, for reasoning also
 * {@code prompt, answer, completion, formatted, correct, style, default_rewards}.
 */
public final class PretrainCorpusGenerator implements TaskGenerator {
    public static final String NAME = "pretrain-corpus";

    private final long seed;
    private final String task;
    private final PromptTemplate template;
    private final double formatRate, errorRate, selfCheckRate, directErrorRate, wordsRate, plainRate, chatRate;
    private final Lang lang;
    private final ToyWorld world;
    private final ArithmeticGenerator.Problems problems;
    private final CountdownGenerator countdown;
    private final SearchStyle search;

    public PretrainCorpusGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        task = p.getString("task", ArithmeticGenerator.NAME);
        template = PromptTemplates.byName(p.getString("template", "toy"));
        formatRate = p.getRate("format_rate", 0.5);
        errorRate = p.getRate("error_rate", 0.3);
        selfCheckRate = p.getRate("self_check_rate", 0.15);
        directErrorRate = p.getRate("direct_error_rate", 0.5);
        wordsRate = p.getRate("words_rate", 0.3);
        plainRate = p.getRate("plain_rate", 0.2);
        chatRate = p.getRate("chat_rate", 0.05);
        if (plainRate + chatRate > 1) throw new DatasetException("pretrain-corpus: plain_rate + chat_rate must be <= 1");
        lang = Lang.parse(p.getString("lang", "en"));
        world = ToyWorld.standard(p.getInt("world_seed", 7, 0, Integer.MAX_VALUE));
        switch (task) {
            case ArithmeticGenerator.NAME -> {
                problems = new ArithmeticGenerator.Problems(p, "train");
                countdown = null;
            }
            case CountdownGenerator.NAME -> {
                problems = null;
                countdown = new CountdownGenerator(seed, p);
            }
            default -> throw new DatasetException("pretrain-corpus: task='" + task
                    + "' must be arithmetic or countdown");
        }
        search = countdown == null ? null : SearchStyle.of(p);
    }

    /**
     * The countdown replies' {@code countdown_style=search}: the writer tries a random combination,
     * checks it against the target and, on a miss, either searches on ("wait, …") or gives up and
     * answers the miss. A share {@code search_rate} of writers are thorough (after a miss they go on with
     * probability {@code thorough_continue_rate}), the rest hasty ({@code hasty_continue_rate}); nobody
     * tries more than {@code max_attempts} combinations. So the corpus holds long searches, which find
     * the target more often, but a base model mostly stops after its first miss.
     */
    record SearchStyle(double searchRate, double thoroughContinueRate, double hastyContinueRate, int maxAttempts) {
        static SearchStyle of(GeneratorParams p) {
            String style = p.getString("countdown_style", "solution");
            switch (style) {
                case "solution" -> { return null; }
                case "search" -> {
                    return new SearchStyle(p.getRate("search_rate", 0.2), p.getRate("thorough_continue_rate", 0.9),
                            p.getRate("hasty_continue_rate", 0.1), p.getInt("max_attempts", 8, 1, 64));
                }
                default -> throw new DatasetException("pretrain-corpus: countdown_style='" + style
                        + "' must be solution or search");
            }
        }
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() {
        return task.equals(CountdownGenerator.NAME) ? List.of("countdown", "format") : List.of("accuracy", "format");
    }

    /** The reply and what it is. */
    record Reply(String completion, boolean formatted, boolean correct, String style) {}

    @Override
    public Map<String, Object> generate(long index) {
        SplittableRandom r = Seeds.forExample(NAME, seed, index);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        double u = r.nextDouble();
        if (u < plainRate) {
            m.put("kind", "plain");
            m.put("text", world.plainText(r));
            return m;
        }
        if (u < plainRate + chatRate) {
            String[] qa = NonReasoningGenerator.sample(Seeds.pick(r, NonReasoningGenerator.CATEGORIES), world, r);
            Example ex = new Example(NAME + "-" + index, Map.of(Example.PROMPT, qa[0]));
            m.put("kind", "chat");
            m.put("text", template.render(ex) + template.assistantSeparator() + qa[1]);
            m.put("prompt", qa[0]);
            m.put("answer", qa[1]);
            m.put("default_rewards", List.of("accuracy"));
            return m;
        }
        String prompt;
        String answer;
        Reply reply;
        Map<String, Object> extra = new LinkedHashMap<>();
        if (countdown != null) {
            CountdownGenerator.Instance in = countdown.instance(r.nextLong() & Long.MAX_VALUE);
            prompt = countdown.questionOf(in);
            answer = in.solutionText();
            reply = search != null ? searchReply(in, r) : countdownReply(in, r);
            extra.put("nums", in.nums());
            extra.put("target", in.target());
        } else {
            Expr e = problems.sample(r);
            prompt = lang.question(Expr.render(e, ""));
            answer = Long.toString(e.value());
            reply = arithmeticReply(e, r);
        }
        Example ex = new Example(NAME + "-" + index, Map.of(Example.PROMPT, prompt));
        String text = template.render(ex) + template.assistantSeparator() + reply.completion();
        m.put("kind", "reasoning");
        m.put("text", text);
        m.put("prompt", prompt);
        m.put("answer", answer);
        m.putAll(extra);
        m.put("completion", reply.completion());
        m.put("formatted", reply.formatted());
        m.put("correct", reply.correct());
        m.put("style", reply.style());
        m.put("default_rewards", defaultRewards());
        return m;
    }

    private Reply arithmeticReply(Expr e, SplittableRandom r) {
        boolean formatted = Seeds.chance(r, formatRate);
        Completions.Malformed shape = formatted ? null : Completions.Malformed.random(r);
        boolean reasons = formatted || shape.hasReasoning();
        long truth = e.value();
        if (!reasons) {
            boolean right = !Seeds.chance(r, directErrorRate);
            String ans = Long.toString(right ? truth : WorkedSolution.wrongAnswer(truth, r));
            return new Reply(Completions.malformed(shape, "", ans, lang), false, right, shape.name().toLowerCase());
        }
        boolean error = Seeds.chance(r, errorRate);
        boolean selfCheck = !error && Seeds.chance(r, selfCheckRate);
        boolean words = Seeds.chance(r, wordsRate);
        String style = words ? "words" : "symbols";
        WorkedSolution.Trace trace;
        String closing = "";
        long shownAnswer;
        if (error && r.nextInt(4) > 0) {
            trace = WorkedSolution.trace(e, r.nextDouble(), false, r);   // a slip that carries through
            shownAnswer = trace.result();
            style += "+slip";
        } else if (selfCheck && r.nextBoolean()) {
            trace = WorkedSolution.trace(e, r.nextDouble(), true, r);    // a slip, caught
            shownAnswer = trace.result();
            style += "+caught";
        } else {
            trace = WorkedSolution.trace(e, -1, false, r);
            shownAnswer = error ? WorkedSolution.wrongAnswer(truth, r) : truth;   // a miscopied answer
            if (error) style += "+miscopy";
            if (selfCheck) {
                closing = WorkedSolution.inverseCheck(trace, lang);
                if (!closing.isEmpty()) style += "+check";
            }
        }
        String think = words ? WorkedSolution.words(trace, lang) : WorkedSolution.symbolic(trace, lang);
        if (!closing.isEmpty()) think += words ? " " + closing + "." : ", " + closing;
        String ans = Long.toString(shownAnswer);
        String completion = formatted ? Completions.formatted(think, ans) : Completions.malformed(shape, think, ans, lang);
        return new Reply(completion, formatted, shownAnswer == truth, formatted ? style : shape.name().toLowerCase() + "+" + style);
    }

    /**
     * Countdown replies: the solution's steps in order; wrong ones combine the numbers into a tree that
     * misses the target; self-checks try such a tree first, notice, and then find the solution.
     */
    private Reply countdownReply(CountdownGenerator.Instance in, SplittableRandom r) {
        boolean formatted = Seeds.chance(r, formatRate);
        Completions.Malformed shape = formatted ? null : Completions.Malformed.random(r);
        boolean reasons = formatted || shape.hasReasoning();
        boolean error = Seeds.chance(r, reasons ? errorRate : directErrorRate);
        Expr miss = error || Seeds.chance(r, selfCheckRate) ? missTree(in, r) : null;
        boolean caught = !error && miss != null;
        Expr shown = error && miss != null ? miss : in.solution();
        StringBuilder think = new StringBuilder();
        if (caught) {
            think.append(stepsText(miss)).append(", ").append(lang.waitCheck).append(' ')
                    .append(miss.value()).append(" is not ").append(in.target()).append(". ");
        }
        think.append(stepsText(shown));
        String ans = Expr.render(shown, " ");
        String completion = formatted ? Completions.formatted(think.toString(), ans)
                : Completions.malformed(shape, think.toString(), ans, lang);
        String style = (caught ? "caught" : error && miss != null ? "miss" : "solution");
        return new Reply(completion, formatted, shown.value() == in.target(),
                formatted ? style : shape.name().toLowerCase() + "+" + style);
    }

    /**
     * A search trace: attempts {@code 4*7=28, 28-3=25, not 24.} joined by {@code wait,} until one
     * reaches the target ({@code 3*7=21, 21+3=24, ok.}) or the writer stops; the answer is the last
     * attempt, so a search that stopped on a miss is wrong. Style {@code search-N-found|gaveup}, N attempts.
     */
    private Reply searchReply(CountdownGenerator.Instance in, SplittableRandom r) {
        boolean formatted = Seeds.chance(r, formatRate);
        Completions.Malformed shape = formatted ? null : Completions.Malformed.random(r);
        boolean thorough = Seeds.chance(r, search.searchRate());
        double goOn = thorough ? search.thoroughContinueRate() : search.hastyContinueRate();
        StringBuilder think = new StringBuilder();
        Expr last = null;
        int attempts = 0;
        while (true) {
            Expr e = null;
            for (int t = 0; t < 100 && e == null; t++) e = countdown.randomTree(in.nums(), r);
            if (e == null) e = in.solution();   // no valid random tree (never seen with + - *): show the solution
            last = e;
            attempts++;
            if (attempts > 1) think.append(' ').append(WAIT).append(' ');
            think.append(stepsText(e));
            boolean hit = e.value() == in.target();
            think.append(hit ? ", ok." : ", not " + in.target() + ".");
            if (hit || attempts >= search.maxAttempts() || !Seeds.chance(r, goOn)) break;
        }
        boolean correct = last.value() == in.target();
        String ans = Expr.render(last, " ");
        String completion = formatted ? Completions.formatted(think.toString(), ans)
                : Completions.malformed(shape, think.toString(), ans, lang);
        String style = "search-" + attempts + (correct ? "-found" : "-gaveup");
        return new Reply(completion, formatted, correct, formatted ? style : shape.name().toLowerCase() + "+" + style);
    }

    /** The phrase that opens every attempt after the first: the trace's reflection. */
    static final String WAIT = "wait,";

    private static String stepsText(Expr e) {
        List<String> parts = new ArrayList<>();
        for (Expr.Bin b : Expr.steps(e)) parts.add(b.left().value() + "" + b.op() + b.right().value() + "=" + b.value());
        return String.join(", ", parts);
    }

    /** A tree over the same numbers with + and * only (always valid) that misses the target; null if none found. */
    private static Expr missTree(CountdownGenerator.Instance in, SplittableRandom r) {
        for (int t = 0; t < 20; t++) {
            List<Expr> pool = new ArrayList<>();
            for (int n : in.nums()) pool.add(new Expr.Num(n));
            while (pool.size() > 1) {
                Expr a = pool.remove(r.nextInt(pool.size()));
                Expr b = pool.remove(r.nextInt(pool.size()));
                char op = a.value() > b.value() && r.nextBoolean() ? '-' : (r.nextInt(3) == 0 ? '*' : '+');
                pool.add(Expr.of(op, a, b));
            }
            if (pool.getFirst().value() != in.target()) return pool.getFirst();
        }
        return null;
    }
}
