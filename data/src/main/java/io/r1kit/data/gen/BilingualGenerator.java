package io.r1kit.data.gen;

import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.data.DatasetException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The bilingual variant: arithmetic problems and their chains of thought in English and in Russian (a
 * second script, Cyrillic), plus mixed-language chains, so the language-consistency reward has something
 * to fix. Lines come in pairs: lines {@code 2k} and {@code 2k+1} pose the same problem, in English and in
 * Russian, with the same steps. With probability {@code mixed_rate} a chain switches language: with
 * {@code mixed_style=steps} from step to step (at random, starting in the prompt's language; chains of
 * two or more steps), with {@code mixed_style=switch} once, for good (after 0 to n-1 steps in the
 * prompt's language: a model that reads a Russian question and thinks in English). Chains are written in words and always formatted
 * ({@code <think> … </think> <answer> … </answer>}). By default they are correct and only the language
 * varies; {@code slip_rate_en} and {@code slip_rate_ru} make a step written in that language show a
 * wrong result with that probability (the first slip carries through to the answer), so a corpus can
 * teach arithmetic that is more reliable in one language than the other, as a base model that saw
 * mostly English arithmetic: then switching a Russian chain to English steps pays in accuracy.
 *
 * <p>Params (defaults): {@code mixed_rate=0.3}, {@code mixed_style=steps}, {@code slip_rate_en=0}, {@code slip_rate_ru=0},
 * {@code template=toy}, and the arithmetic knobs (digits=2, terms=2, ops=+-*, ..., part=train).
 * Record: {@code id, pair, language (of the prompt: en | ru, the column the
 * language-consistency reward reads), cot_lang (en|ru|mixed), prompt, answer, completion, correct,
 * text, default_rewards}.
 */
public final class BilingualGenerator implements TaskGenerator {
    public static final String NAME = "bilingual";

    private final long seed;
    private final ArithmeticGenerator.Problems problems;
    private final double mixedRate, slipRateEn, slipRateRu;
    private final boolean switchOnce;
    private final PromptTemplate template;

    public BilingualGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        problems = new ArithmeticGenerator.Problems(p, "train");
        mixedRate = p.getRate("mixed_rate", 0.3);
        slipRateEn = p.getRate("slip_rate_en", 0.0);
        slipRateRu = p.getRate("slip_rate_ru", 0.0);
        String style = p.getString("mixed_style", "steps");
        if (!style.equals("steps") && !style.equals("switch")) {
            throw new DatasetException("bilingual: mixed_style='" + style + "' must be steps or switch");
        }
        switchOnce = style.equals("switch");
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
        boolean mixed = Seeds.chance(own, mixedRate) && (switchOnce || trace.steps().size() > 1);
        Lang[] perStep = new Lang[trace.steps().size()];
        java.util.Arrays.fill(perStep, lang);
        if (mixed && switchOnce) {
            Lang other = lang == Lang.EN ? Lang.RU : Lang.EN;
            for (int i = own.nextInt(perStep.length); i < perStep.length; i++) perStep[i] = other;
        } else if (mixed) {
            boolean switched = false;
            for (int i = 1; i < perStep.length; i++) {
                perStep[i] = own.nextBoolean() ? Lang.EN : Lang.RU;
                switched |= perStep[i] != lang;
            }
            if (!switched) perStep[perStep.length - 1] = lang == Lang.EN ? Lang.RU : Lang.EN;
        }
        // a step slips with its language's rate; the first slip carries through (the rates default to 0)
        for (int i = 0; i < perStep.length; i++) {
            if (Seeds.chance(own, perStep[i] == Lang.EN ? slipRateEn : slipRateRu)) {
                trace = WorkedSolution.trace(e, (i + 0.5) / perStep.length, false, own);
                break;
            }
        }
        // a slip may change later steps' count (longer expressions): those steps keep the last language
        String think = WorkedSolution.words(trace, i -> perStep[Math.min(i, perStep.length - 1)]);
        String prompt = lang.question(Expr.render(e, ""));
        String answer = Long.toString(e.value());
        String completion = Completions.formatted(think, Long.toString(trace.result()));
        Example ex = new Example(NAME + "-" + index, Map.of(Example.PROMPT, prompt));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("pair", pair);
        m.put("language", lang.code);
        m.put("cot_lang", mixed ? "mixed" : lang.code);
        m.put("prompt", prompt);
        m.put("answer", answer);
        m.put("completion", completion);
        m.put("correct", trace.result() == e.value());
        m.put("text", template.render(ex) + template.assistantSeparator() + completion);
        m.put("default_rewards", defaultRewards());
        return m;
    }
}
