package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.lang.Character.UnicodeScript;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DeepSeek-R1's language consistency reward: the proportion of words in the chain of thought
 * (the {@code <think>} part) written in the target language.
 *
 * <p>Detection is by Unicode script: a word is a run of letters of one script; every Han, Hiragana
 * and Katakana character counts as a word of its own (Chinese and Japanese are not space
 * separated). LaTeX math ({@code $…$} on one line, {@code $$…$$}, {@code \(…\)}, {@code \[…\]}; dollar
 * amounts are text), code (fenced and inline), LaTeX commands, numbers and single letters of any
 * script (math symbols such as x or π) are ignored. A chain of thought
 * without words (only numbers and symbols, such as {@code 47+30=77}) mixes no languages and scores
 * {@code no_words} (default 1.0: otherwise RL would learn to prefer wordy chains only because they can
 * earn this reward); null when no target language is known.
 *
 * <p>Params: {@code language} (fixed target: an ISO code such as en, zh, ja, ru, or a Unicode script
 * name such as LATIN), {@code language_column} (language; used when {@code language} is not set),
 * {@code scope} (think | completion; think falls back to the whole completion when there is no
 * {@code </think>}), {@code no_words} (score of a chain without words: a number, or {@code null} to
 * leave such chains out; default 1.0).
 */
public final class LanguageConsistencyReward implements RewardFunction {

    /**
     * Code, and LaTeX math: {@code $$…$$}, {@code \[…\]}, {@code \(…\)}, and {@code $…$} on one line
     * with Pandoc's rule (no space just inside either dollar, no digit just after the closing one), so
     * dollar amounts such as "$5 each … $10 total" are text, not math.
     */
    private static final Pattern MATH_OR_CODE = Pattern.compile(
            "```.*?```|`[^`\\n]*`|\\$\\$.*?\\$\\$|\\$(?=[^\\s$])[^$\\n]*?(?<=[^\\s$])\\$(?!\\d)|\\\\\\[.*?\\\\\\]"
                    + "|\\\\\\(.*?\\\\\\)|\\\\[a-zA-Z]+", Pattern.DOTALL);

    private static final Map<String, Set<UnicodeScript>> LANGUAGES = Map.ofEntries(
            Map.entry("zh", EnumSet.of(UnicodeScript.HAN)),
            Map.entry("ja", EnumSet.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA)),
            Map.entry("ko", EnumSet.of(UnicodeScript.HANGUL, UnicodeScript.HAN)),
            Map.entry("ru", EnumSet.of(UnicodeScript.CYRILLIC)), Map.entry("uk", EnumSet.of(UnicodeScript.CYRILLIC)),
            Map.entry("bg", EnumSet.of(UnicodeScript.CYRILLIC)), Map.entry("sr", EnumSet.of(UnicodeScript.CYRILLIC)),
            Map.entry("ar", EnumSet.of(UnicodeScript.ARABIC)), Map.entry("fa", EnumSet.of(UnicodeScript.ARABIC)),
            Map.entry("he", EnumSet.of(UnicodeScript.HEBREW)), Map.entry("el", EnumSet.of(UnicodeScript.GREEK)),
            Map.entry("hi", EnumSet.of(UnicodeScript.DEVANAGARI)), Map.entry("th", EnumSet.of(UnicodeScript.THAI)),
            Map.entry("bn", EnumSet.of(UnicodeScript.BENGALI)), Map.entry("ka", EnumSet.of(UnicodeScript.GEORGIAN)),
            Map.entry("hy", EnumSet.of(UnicodeScript.ARMENIAN)), Map.entry("ta", EnumSet.of(UnicodeScript.TAMIL)));

    private static final Set<String> LATIN_LANGUAGES = Set.of("en", "fr", "de", "es", "it", "pt", "nl", "sv", "no", "da",
            "fi", "pl", "cs", "sk", "ro", "hu", "tr", "vi", "id", "ms", "ca", "hr", "sl", "et", "lv", "lt", "sw", "tl");

    private static final Map<String, String> NAMES = Map.ofEntries(Map.entry("english", "en"), Map.entry("chinese", "zh"),
            Map.entry("japanese", "ja"), Map.entry("korean", "ko"), Map.entry("russian", "ru"), Map.entry("french", "fr"),
            Map.entry("german", "de"), Map.entry("spanish", "es"), Map.entry("arabic", "ar"), Map.entry("hindi", "hi"),
            Map.entry("greek", "el"), Map.entry("hebrew", "he"), Map.entry("thai", "th"), Map.entry("italian", "it"),
            Map.entry("portuguese", "pt"), Map.entry("vietnamese", "vi"));

    private final Set<UnicodeScript> fixed;
    private final String column;
    private final boolean thinkOnly;
    private final Double noWords;

    public LanguageConsistencyReward(RewardParams p) {
        p.requireOnly("language", "language_column", "scope", "no_words");
        String nw = p.has("no_words") ? p.getString("no_words", "null") : "1.0";   // YAML no_words: null → null
        if (nw == null || nw.equals("null")) {
            noWords = null;
        } else {
            try {
                noWords = Double.parseDouble(nw);
            } catch (NumberFormatException e) {
                throw p.bad("no_words", "a number or null", nw);
            }
        }
        fixed = p.has("language") ? scriptsFor(p.getString("language", null), "param 'language'") : null;
        column = p.getString("language_column", "language");
        String scope = p.getString("scope", "think");
        if (!scope.equals("think") && !scope.equals("completion")) throw p.bad("scope", "think or completion", scope);
        thinkOnly = scope.equals("think");
    }

    @Override
    public String name() {
        return "language_consistency";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) {
            Set<UnicodeScript> target = fixed;
            if (target == null) {
                String lang = c.columnString(column);
                if (lang == null || lang.isBlank()) {
                    out.add(null);
                    continue;
                }
                target = scriptsFor(lang, "example " + c.exampleId() + " column '" + column + "'");
            }
            double[] counts = count(thinkOnly ? chainOfThought(c) : c.text(), target);
            out.add(counts[1] == 0 ? noWords : Double.valueOf(counts[0] / counts[1]));
        }
        return out;
    }

    static String chainOfThought(Completion c) {
        String s = c.text();
        int close = s.indexOf("</think>");
        if (close < 0) return s.replace("<think>", "");
        int open = s.lastIndexOf("<think>", close);
        return s.substring(open < 0 ? 0 : open + "<think>".length(), close);
    }

    /** {words in target scripts, all counted words}. */
    static double[] count(String text, Set<UnicodeScript> target) {
        Matcher m = MATH_OR_CODE.matcher(text);
        String s = m.replaceAll(" ");
        int inTarget = 0, total = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            if (!Character.isLetter(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            UnicodeScript sc = UnicodeScript.of(cp);
            if (sc == UnicodeScript.HAN || sc == UnicodeScript.HIRAGANA || sc == UnicodeScript.KATAKANA) {
                total++;
                if (target.contains(sc)) inTarget++;
                i += Character.charCount(cp);
                continue;
            }
            int j = i, len = 0;
            while (j < s.length()) {
                int c2 = s.codePointAt(j);
                if (!(Character.isLetter(c2) || Character.getType(c2) == Character.NON_SPACING_MARK
                        || c2 == '\'' || c2 == '-') || (Character.isLetter(c2) && UnicodeScript.of(c2) != sc)) break;
                j += Character.charCount(c2);
                len++;
            }
            // a word glued to digits (x2, 3rd) or a lone letter of any script (x, π) is math, not language
            boolean gluedToDigit = (i > 0 && Character.isDigit(s.charAt(i - 1))) || (j < s.length() && Character.isDigit(s.charAt(j)));
            if (!gluedToDigit && len != 1) {
                total++;
                if (target.contains(sc)) inTarget++;
            }
            i = Math.max(j, i + 1);
        }
        return new double[] {inTarget, total};
    }

    static Set<UnicodeScript> scriptsFor(String language, String where) {
        String l = language.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        l = NAMES.getOrDefault(l, l);
        String base = l.contains("-") ? l.substring(0, l.indexOf('-')) : l;
        if (LATIN_LANGUAGES.contains(base)) return EnumSet.of(UnicodeScript.LATIN);
        Set<UnicodeScript> s = LANGUAGES.get(base);
        if (s != null) return s;
        try {
            return EnumSet.of(UnicodeScript.forName(language.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": unknown language '" + language
                    + "' (use an ISO 639-1 code such as en, zh, ja, ru, or a Unicode script name such as LATIN, CYRILLIC)");
        }
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "language_consistency"; }
        public String description() { return "share of chain-of-thought words in the target language (Unicode script)"; }
        public RewardFunction create(RewardParams p) { return new LanguageConsistencyReward(p); }
    }
}
