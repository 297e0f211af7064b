package io.r1kit.grpo.metrics;

import java.util.List;
import java.util.Locale;

/**
 * {@code completions/reflection_rate}: the share of completions that contain at least one of the
 * configured {@code reflection_words} (words or phrases; the R1 paper's examples of reflective
 * behaviour are "wait", "re-evaluate", "verify", "check"). Matching ignores case and needs the phrase
 * to start a word (not follow a letter or digit), so "check" counts "checking" and "Check:" but "wait"
 * does not count "await". It measures what the completions say, not what any reward pays for.
 */
public final class ReflectionRate {
    public static final String METRIC = "completions/reflection_rate";

    private ReflectionRate() {}

    /** Share of {@code texts} containing a phrase of {@code words}; NaN for no texts. */
    public static double of(List<String> texts, List<String> words) {
        if (texts.isEmpty()) return Double.NaN;
        List<String> lower = words.stream().map(w -> w.toLowerCase(Locale.ROOT)).toList();
        int hits = 0;
        for (String t : texts) if (reflects(t, lower)) hits++;
        return (double) hits / texts.size();
    }

    /** True when {@code text} contains one of the (lower-case) phrases at the start of a word. */
    static boolean reflects(String text, List<String> lowerWords) {
        String s = text.toLowerCase(Locale.ROOT);
        for (String w : lowerWords) {
            for (int i = s.indexOf(w); i >= 0; i = s.indexOf(w, i + 1)) {
                if (i == 0 || !Character.isLetterOrDigit(s.charAt(i - 1))) return true;
            }
        }
        return false;
    }

    /** Checks a {@code reflection_words} list: no null or blank phrase. */
    public static List<String> checked(List<String> words, String key) {
        if (words == null) return List.of();
        for (String w : words) {
            if (w == null || w.isBlank()) throw new IllegalArgumentException(key + " must be non-blank words or phrases, got " + words);
        }
        return List.copyOf(words);
    }
}
