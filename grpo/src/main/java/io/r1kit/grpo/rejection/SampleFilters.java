package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * R1's readability filters for rejection-sampled and cold-start data, each with a named reason:
 * <ul>
 *   <li>{@code truncated} — the completion hit max_new_tokens (finish reason "length");</li>
 *   <li>{@code mixed_language} — the chain of thought mixes languages: the rewards module's
 *       {@code language_consistency} reward (share of words in the target language; target from the
 *       {@code language} option or the example's language column) is below {@code language_threshold}.
 *       A null score (no words, or no known target) passes;</li>
 *   <li>{@code long_paragraph} — a paragraph (text between blank lines) longer than
 *       {@code max_paragraph_chars} characters;</li>
 *   <li>{@code code_block} — a ``` fence in the completion when the prompt does not match
 *       {@code code_prompt_pattern} (the prompt is not about code).</li>
 * </ul>
 * Every filter is evaluated, so a sample's reasons list all the filters it fails.
 */
public final class SampleFilters {

    public static final String TRUNCATED = "truncated", MIXED_LANGUAGE = "mixed_language", LONG_PARAGRAPH = "long_paragraph",
            CODE_BLOCK = "code_block";

    private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\n[ \\t]*\\n");

    private final RewardFunction language;     // null = off
    private final double languageThreshold;
    private final int maxParagraphChars;
    private final Pattern codePrompt;           // null = code filter off
    private final boolean dropTruncated;
    private final String promptColumn;

    public SampleFilters(RejectionConfig c) {
        if (c.languageThreshold() > 0) {
            Map<String, Object> p = new LinkedHashMap<>();
            if (c.language() != null) p.put("language", c.language()); else p.put("language_column", c.languageColumn());
            language = RewardRegistry.builtins().createByName("language_consistency", p);
        } else {
            language = null;
        }
        languageThreshold = c.languageThreshold();
        maxParagraphChars = c.maxParagraphChars();
        codePrompt = c.filterCodeBlocks() ? Pattern.compile(c.codePromptPattern()) : null;
        dropTruncated = c.dropTruncated();
        promptColumn = c.promptColumn();
    }

    /** The failed filters of each candidate (empty list = passes), in order. */
    public List<List<String>> reasons(Example e, List<Candidate> cs) {
        List<Double> lang = null;
        if (language != null) {
            List<Completion> batch = new ArrayList<>();
            for (Candidate c : cs) batch.add(new Completion(e.id(), c.promptText(), c.completion(), c.tokenIds(), c.finishReason(), e.columns()));
            try {
                lang = language.score(batch);
            } catch (Exception ex) {
                throw new IllegalStateException("language_consistency failed on example '" + e.id() + "': " + ex, ex);
            }
        }
        String prompt = e.optString(promptColumn).orElse("");
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < cs.size(); i++) {
            Candidate c = cs.get(i);
            List<String> r = new ArrayList<>();
            if (dropTruncated && "length".equals(c.finishReason())) r.add(TRUNCATED);
            if (lang != null && lang.get(i) != null && lang.get(i) < languageThreshold) r.add(MIXED_LANGUAGE);
            if (maxParagraphChars > 0 && longestParagraph(c.completion()) > maxParagraphChars) r.add(LONG_PARAGRAPH);
            if (codePrompt != null && c.completion().contains("```") && !codePrompt.matcher(prompt).find()) r.add(CODE_BLOCK);
            out.add(r);
        }
        return out;
    }

    /** Characters of the longest paragraph (paragraphs are separated by blank lines). */
    public static int longestParagraph(String text) {
        int max = 0;
        for (String p : PARAGRAPH_BREAK.split(text)) max = Math.max(max, p.strip().length());
        return max;
    }

    /** The dedup key: lower case, whitespace runs collapsed to one space, trimmed. */
    public static String normalize(String text) {
        return text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }
}
