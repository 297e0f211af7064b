package io.r1kit.grpo.rejection;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import java.util.Map;

/**
 * R1's readable cold-start output format, {@code |special_token|<reasoning_process>|special_token|<summary>}:
 * {@link #rewrite} turns an R1-Zero completion ({@code <think> R </think> <answer> A </answer>}, or with
 * the think prefill in the prompt just {@code R </think> <answer> A </answer>}) into
 * {@code reasoningOpen + R.strip() + reasoningClose + summaryTemplate[{summary} := A.strip()]}, with
 * nothing added in between. The summary is the {@code <answer>} content when there is one, else the text
 * after {@code </think>}. A completion without {@code </think>}, or with an empty reasoning or summary,
 * cannot be rewritten (null; the sampler rejects it as {@code not_rewritable}).
 */
public record ColdStartFormat(
        @Doc("token before the reasoning.")
        String reasoningOpen,
        @Doc("token between reasoning and summary.")
        String reasoningClose,
        @Doc("the summary text; `{summary}` is replaced by the extracted summary.")
        String summaryTemplate,
        @Doc("the R1-Zero opening tag.")
        String thinkOpen,
        @Doc("the R1-Zero closing tag.")
        String thinkClose,
        @Doc("the R1-Zero answer tag name.")
        String answerTag) {

    public ColdStartFormat {
        reasoningOpen = reasoningOpen == null ? "|special_token|" : reasoningOpen;
        reasoningClose = reasoningClose == null ? "|special_token|" : reasoningClose;
        summaryTemplate = summaryTemplate == null ? "{summary}" : summaryTemplate;
        thinkOpen = thinkOpen == null ? "<think>" : thinkOpen;
        thinkClose = thinkClose == null ? "</think>" : thinkClose;
        answerTag = answerTag == null ? "answer" : answerTag;
        if (reasoningOpen.isEmpty() || reasoningClose.isEmpty())
            throw new IllegalArgumentException("cold_start: reasoning_open and reasoning_close must not be empty");
        if (!summaryTemplate.contains("{summary}")) throw new IllegalArgumentException("cold_start: summary_template must contain {summary}");
    }

    public static ColdStartFormat defaults() {
        return of(Map.of());
    }

    /** Binds snake_case keys ({@code reasoning_open}, {@code reasoning_close}, {@code summary_template}, …). */
    public static ColdStartFormat of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, ColdStartFormat.class, "cold_start config");
    }

    /** The rewritten completion, or null when it has no reasoning block to rewrite. */
    public String rewrite(String completion) {
        int close = completion.indexOf(thinkClose);
        if (close < 0) return null;
        String reasoning = completion.substring(0, close);
        int open = reasoning.indexOf(thinkOpen);
        if (open >= 0) reasoning = reasoning.substring(open + thinkOpen.length());
        String rest = completion.substring(close + thinkClose.length());
        String a0 = "<" + answerTag + ">", a1 = "</" + answerTag + ">";
        int as = rest.indexOf(a0);
        String summary;
        if (as >= 0) {
            int ae = rest.indexOf(a1, as);
            summary = ae < 0 ? rest.substring(as + a0.length()) : rest.substring(as + a0.length(), ae);
        } else {
            summary = rest;
        }
        reasoning = reasoning.strip();
        summary = summary.strip();
        if (reasoning.isEmpty() || summary.isEmpty()) return null;
        return reasoningOpen + reasoning + reasoningClose + summaryTemplate.replace("{summary}", summary);
    }
}
