package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import io.r1kit.grpo.rm.RewardModelReward;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * R1's generative judge for answers rules cannot check: a judge model is shown the question, the
 * reference answer and the candidate's final answer (its summary: the text after the reasoning block,
 * so the judge is not swayed by a long chain of thought) and asked for a one-word verdict, decoded
 * greedily. {@link #parse} reads it; an unparseable verdict rejects the candidate (reason
 * {@code unparseable_verdict}, counted), never accepts it.
 */
public final class GenerativeJudge implements Judge {

    /** Verdict of one judgement. */
    public enum Verdict { CORRECT, INCORRECT, UNPARSEABLE }

    /** Default prompt; placeholders {question}, {reference}, {prediction}. */
    public static final String DEFAULT_TEMPLATE = """
            You are grading an answer against a reference. Decide whether the model answer means the same as the \
            reference answer.
            Question: {question}
            Reference answer: {reference}
            Model answer: {prediction}
            Is the model answer correct? Reply with one word: yes or no.
            Verdict:""";

    private final Generator generator;
    private final Tokenizer tokenizer;
    private final String template, questionColumn, referenceColumn;
    private final int maxNewTokens;

    public GenerativeJudge(Generator generator, Tokenizer tokenizer, String template, String questionColumn, String referenceColumn,
                           int maxNewTokens) {
        for (String ph : List.of("{question}", "{reference}", "{prediction}")) {
            if (!template.contains(ph)) throw new IllegalArgumentException("judge_template must contain " + ph);
        }
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.template = template;
        this.questionColumn = questionColumn;
        this.referenceColumn = referenceColumn;
        this.maxNewTokens = maxNewTokens;
    }

    /** The judge prompt for one candidate (prediction = its summary). */
    public String prompt(Example e, Candidate c) {
        String prediction = RewardModelReward.summary(c.completion(), "<think>", "</think>", "|special_token|");
        return template.replace("{question}", e.optString(questionColumn).orElse(""))
                .replace("{reference}", e.optString(referenceColumn).orElse(""))
                .replace("{prediction}", prediction.strip());
    }

    @Override
    public List<Judgement> judge(Example e, List<Candidate> cs) {
        if (!e.has(referenceColumn)) {
            List<Judgement> out = new ArrayList<>();
            for (Candidate c : cs) out.add(new Judgement(false, "no_reference", Map.of(), null));
            return out;
        }
        List<int[]> prompts = new ArrayList<>();
        for (Candidate c : cs) prompts.add(tokenizer.encode(prompt(e, c), true));
        List<Completion> verdicts = generator.generate(prompts, SamplingParams.greedy(maxNewTokens));
        List<Judgement> out = new ArrayList<>();
        for (Completion v : verdicts) {
            String text = v.text() != null ? v.text() : tokenizer.decode(v.tokens(), true);
            out.add(toJudgement(text));
        }
        return out;
    }

    /** The judgement a verdict text gives. */
    public static Judgement toJudgement(String verdictText) {
        return switch (parse(verdictText)) {
            case CORRECT -> new Judgement(true, null, Map.of(), verdictText);
            case INCORRECT -> new Judgement(false, "incorrect", Map.of(), verdictText);
            case UNPARSEABLE -> new Judgement(false, "unparseable_verdict", Map.of(), verdictText);
        };
    }

    /**
     * Reads a verdict: a reasoning judge's {@code <think>…</think>} is skipped; then the FIRST verdict
     * word decides — yes / correct / right / true, or no / incorrect / wrong / false — and a "not"
     * right before a positive word makes it negative ("not correct"). Nothing recognisable → UNPARSEABLE.
     */
    public static Verdict parse(String text) {
        if (text == null) return Verdict.UNPARSEABLE;
        int close = text.lastIndexOf("</think>");
        String s = (close >= 0 ? text.substring(close + "</think>".length()) : text).toLowerCase(Locale.ROOT);
        String[] words = s.split("[^\\p{L}]+");
        String prev = "";
        for (String w : words) {
            if (w.isEmpty()) continue;
            switch (w) {
                case "yes", "correct", "right", "true" -> {
                    return prev.equals("not") ? Verdict.INCORRECT : Verdict.CORRECT;
                }
                case "no", "incorrect", "wrong", "false" -> {
                    return Verdict.INCORRECT;
                }
                default -> { }
            }
            prev = w;
        }
        return Verdict.UNPARSEABLE;
    }
}
