package io.r1kit.data.gen;

import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The bilingual variant: arithmetic problems and their chains of thought in English and in Russian (a
 * second script, Cyrillic), plus mixed-language chains, so the language-consistency reward has something
 * to fix. Lines come in pairs: lines {@code 2k} and {@code 2k+1} pose the same problem, in English and in
 * Russian, with the same steps. With probability {@code mixed_rate} a chain switches language from step
 * to step (at random, starting in the prompt's language). Chains are written in words, always formatted
 * ({@code <think> … </think> <answer> … </answer>}) and correct: only the language varies.
 *
 * <p>Params (defaults): {@code mixed_rate=0.3}, {@code template=toy}, and the arithmetic knobs
 * (digits=2, terms=2, ops=+-*, ..., part=train).
 * Record: {@code id, pair, language (of the prompt: en | ru, the column the
 * language-consistency reward reads), cot_lang (en|ru|mixed), prompt, answer, completion, text,
 * default_rewards}.
 */
public final class BilingualGenerator implements TaskGenerator {
    public static final String NAME = "bilingual";

    private final long seed;
    private final ArithmeticGenerator.Problems problems;
    private final double mixedRate;
    private final PromptTemplate template;

    public BilingualGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        problems = new ArithmeticGenerator.Problems(p, "train");
        mixedRate = p.getRate("mixed_rate", 0.3);
        template = PromptTemplates.byName(p.getString("template", "toy"));
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() { return List.of("accuracy", "format", "language_consistency"); }

    @Override
    public Map<String, Object> generate(long index) {
        long pair = index / 2;
        Lang lang = index % 2 == 0 ? Lang.EN : Lang.RU;
        // The problem and its steps come from the pair's stream, so both lines share them.
        SplittableRandom shared = Seeds.forExample(NAME, seed, pair);
        Expr e = problems.sample(shared);
        WorkedSolution.Trace trace = WorkedSolution.trace(e, -1, false, shared);
        SplittableRandom own = Seeds.forExample(NAME + "/lang", seed, index);
        boolean mixed = Seeds.chance(own, mixedRate) && trace.steps().size() > 1;
        String think;
        if (mixed) {
            Lang[] perStep = new Lang[trace.steps().size()];
            perStep[0] = lang;
            boolean switched = false;
            for (int i = 1; i < perStep.length; i++) {
                perStep[i] = own.nextBoolean() ? Lang.EN : Lang.RU;
                switched |= perStep[i] != lang;
            }
            if (!switched) perStep[perStep.length - 1] = lang == Lang.EN ? Lang.RU : Lang.EN;
            think = WorkedSolution.words(trace, i -> perStep[i]);
        } else {
            think = WorkedSolution.words(trace, lang);
        }
        String prompt = lang.question(Expr.render(e, ""));
        String answer = Long.toString(e.value());
        String completion = Completions.formatted(think, answer);
        Example ex = new Example(NAME + "-" + index, Map.of(Example.PROMPT, prompt));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("pair", pair);
        m.put("language", lang.code);
        m.put("cot_lang", mixed ? "mixed" : lang.code);
        m.put("prompt", prompt);
        m.put("answer", answer);
        m.put("completion", completion);
        m.put("text", template.render(ex) + template.assistantSeparator() + completion);
        m.put("default_rewards", defaultRewards());
        return m;
    }
}
