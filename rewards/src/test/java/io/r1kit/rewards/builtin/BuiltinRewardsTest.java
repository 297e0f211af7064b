package io.r1kit.rewards.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardFunction;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** format, tag_count, language_consistency, cosine/length, repetition, overlong. */
class BuiltinRewardsTest {

    private static double one(RewardFunction f, Completion c) throws Exception {
        return f.score(List.of(c)).get(0);
    }

    private static Completion text(String s) {
        return Completion.of(s, Map.of());
    }

    @Test
    void formatIsStrict() throws Exception {
        FormatReward f = new FormatReward(RewardParams.empty("format"));
        assertEquals(1.0, one(f, text("<think>a b c</think><answer>4</answer>")));
        assertEquals(1.0, one(f, text("  <think>\na\n</think>\n\n<answer>\n4\n</answer>\n")));
        assertEquals(0.0, one(f, text("<think>a</think><answer>4</answer> extra")), "text after");
        assertEquals(0.0, one(f, text("hi <think>a</think><answer>4</answer>")), "text before");
        assertEquals(0.0, one(f, text("<think>a</think> x <answer>4</answer>")), "text between");
        assertEquals(0.0, one(f, text("<answer>4</answer><think>a</think>")), "order");
        assertEquals(0.0, one(f, text("<think>a<think>b</think><answer>4</answer>")), "nested tag");
        assertEquals(0.0, one(f, text("<think>a</think><answer>4</answer><answer>5</answer>")), "two answers");
        assertEquals(0.0, one(f, text("<think>a</think><answer> </answer>")), "empty answer");
        assertEquals(0.0, one(f, text("<think>a</think>")));
        // prompt already opened the think block
        Completion opened = new Completion("1", "...Assistant: <think>", "reasoning</think><answer>4</answer>", null, "stop", Map.of());
        assertEquals(1.0, one(f, opened));
        assertThrows(RewardConfigException.class, () -> new FormatReward(new RewardParams("format", Map.of("bogus", 1))));
    }

    @Test
    void tagCountGivesPartialCredit() throws Exception {
        TagCountReward t = new TagCountReward(RewardParams.empty("tag_count"));
        assertEquals(1.0, one(t, text("<think>a</think>\n<answer>4</answer>")));
        assertEquals(0.75, one(t, text("<think>a</think>\n<answer>4</answer> trailing")));
        assertEquals(0.5, one(t, text("<think>a</think> 4")));
        assertEquals(0.0, one(t, text("just 4")));
        FormatReward partial = new FormatReward(new RewardParams("format", Map.of("tag_count", true)));
        assertEquals(0.75, one(partial, text("<think>a</think>\n<answer>4</answer> trailing")));
        assertEquals(0.5, one(t, text("<think>a</think><think>b</think><answer>4</answer>")), "both think tags twice");
    }

    /** format's tag_count partial credit reads think_in_prompt as the all-or-nothing check does. */
    @Test
    void tagCountFormatHonoursThinkInPrompt() throws Exception {
        Completion insideThink = new Completion("1", "Assistant:", "reasoning</think><answer>4</answer>", null, "stop", Map.of());
        FormatReward openedByPrompt = new FormatReward(new RewardParams("format", Map.of("tag_count", true, "think_in_prompt", "true")));
        assertEquals(1.0, one(openedByPrompt, insideThink), "think_in_prompt: true opens the think block");
        assertEquals(1.0, one(new FormatReward(new RewardParams("format", Map.of("think_in_prompt", "true"))), insideThink));
        Completion promptEndsWithThink = new Completion("1", "Assistant: <think>", "reasoning</think><answer>4</answer>", null, "stop",
                Map.of());
        FormatReward never = new FormatReward(new RewardParams("format", Map.of("tag_count", true, "think_in_prompt", "false")));
        assertEquals(0.75, one(never, promptEndsWithThink), "think_in_prompt: false: the completion must open it");
        assertEquals(0.0, one(new FormatReward(new RewardParams("format", Map.of("think_in_prompt", "false"))), promptEndsWithThink));
        FormatReward auto = new FormatReward(new RewardParams("format", Map.of("tag_count", true)));
        assertEquals(1.0, one(auto, promptEndsWithThink));
        assertEquals(0.75, one(auto, insideThink));
    }

    /**
     * Only real LaTeX math is dropped: dollar amounts (GSM8K chains) do not hide the words between
     * them, on one line or across lines; single-letter symbols of any script (π, x) are not words.
     */
    @Test
    void languageConsistencyCountsWordsBetweenDollarAmountsAndIgnoresLoneSymbols() throws Exception {
        LanguageConsistencyReward en = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "en")));
        // words: It costs each Это много денег all total → 5 English of 8
        assertEquals(5.0 / 8, one(en, text("<think>It costs $5 each.\nЭто много денег, all $10 total</think><answer>2</answer>")), 1e-12);
        assertEquals(2.0 / 3, one(en, text("<think>costs $5 и Это $3 today</think>")), 1e-12, "one line: and (и) is a lone letter");
        assertEquals(1.0, one(en, text("<think>the area is π r squared</think><answer>3</answer>")), "π is a symbol, not Greek");
        // real math is still dropped: $…$ on one line, \( \), \[ \]
        assertEquals(1.0, one(en, text("<think>so $\\alpha + β = γδ$ holds and \\(αβ\\) and \\[ζη\\] too</think>")));
        LanguageConsistencyReward ru = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "ru")));
        assertEquals(1.0, one(ru, text("<think>Ответ равен x плюс y</think>")), "lone Latin letters are variables in any language");
    }

    @Test
    void languageConsistencyCountsWordsPerScript() throws Exception {
        LanguageConsistencyReward en = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "en")));
        assertEquals(1.0, one(en, text("<think>First compute the sum $x^2 + 3 = 7$ so x is 2.</think><answer>2</answer>")));
        // 3 English words + 4 Han characters
        assertEquals(3.0 / 7.0, one(en, text("<think>we need 计算结果 here</think><answer>2</answer>")), 1e-12);
        LanguageConsistencyReward zh = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "zh")));
        assertEquals(1.0, one(zh, text("<think>我们计算 $\\frac{1}{2}$ 和 `code()` 123</think><answer>2</answer>")));
        assertEquals(4.0 / 7.0, one(zh, text("<think>we need 计算结果 here</think><answer>2</answer>")), 1e-12);
        // only the chain of thought counts
        assertEquals(1.0, one(zh, text("<think>计算</think><answer>the answer is two</answer>")));
        // target from the dataset column; no target -> null; no words -> no_words (1.0, or null)
        LanguageConsistencyReward col = new LanguageConsistencyReward(RewardParams.empty("lc"));
        assertEquals(1.0, col.score(List.of(Completion.of("<think>Привет мир</think>", Map.of("language", "ru")))).get(0));
        assertNull(col.score(List.of(Completion.of("<think>hello</think>", Map.of()))).get(0));
        assertEquals(1.0, one(en, text("<think>47+30=77, 77-5=72</think><answer>72</answer>")), "symbols mix no languages");
        LanguageConsistencyReward skipSymbols = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "en", "no_words", "null")));
        assertNull(skipSymbols.score(List.of(text("<think>$x = 2$ 123</think>"))).get(0));
        // Japanese counts kana and kanji
        LanguageConsistencyReward ja = new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "ja")));
        assertEquals(1.0, one(ja, text("<think>これは計算です</think>")));
        assertThrows(IllegalArgumentException.class,
                () -> new LanguageConsistencyReward(new RewardParams("lc", Map.of("language", "klingon"))));
    }

    @Test
    void cosineLengthMatchesThePaper() throws Exception {
        CosineLengthReward c = new CosineLengthReward(new RewardParams("cosine", Map.of("max_length", 100)), "cosine");
        assertEquals(1.0, c.value(0, true), 1e-12);
        assertEquals(0.5, c.value(100, true), 1e-12);
        assertEquals(0.75, c.value(50, true), 1e-12);
        assertEquals(-0.5, c.value(100, false), 1e-12, "long wrong is punished least");
        assertEquals(-1.0, c.value(0, false), 1e-12, "short wrong is punished most");
        assertTrue(c.value(10, true) > c.value(20, true));
        assertTrue(c.value(10, false) < c.value(20, false));
        assertEquals(0.5, c.value(1000, true), 1e-12, "capped without exceed_penalty");
        CosineLengthReward p = new CosineLengthReward(new RewardParams("cosine", Map.of("max_length", 100, "exceed_penalty", -10)), "cosine");
        assertEquals(-10, p.value(101, true), 0);
        // through score(): correctness from the answer column, length from token ids
        Completion right = new Completion("1", "", "\\boxed{4}", new int[50], "stop", Map.of("answer", "4"));
        Completion wrong = new Completion("2", "", "\\boxed{5}", new int[50], "stop", Map.of("answer", "4"));
        List<Double> s = c.score(List.of(right, wrong, text("x")));
        assertEquals(0.75, s.get(0), 1e-12);
        assertEquals(-0.75, s.get(1), 1e-12);
        assertNull(s.get(2));
    }

    @Test
    void repetitionPenalty() throws Exception {
        RepetitionReward r = new RepetitionReward(RewardParams.empty("repetition"));
        assertEquals(0.0, one(r, text("the quick brown fox jumps over the lazy dog")));
        // "a b c" repeated: 7 trigrams, 3 distinct -> -(1 - 3/7)
        assertEquals(-(1 - 3.0 / 7.0), one(r, text("a b c a b c a b c")), 1e-12);
        assertEquals(0.0, one(r, text("a b")));
        RepetitionReward tok = new RepetitionReward(new RewardParams("repetition", Map.of("unit", "tokens", "ngram_size", 2, "max_penalty", -0.5)));
        Completion ids = new Completion("1", "", "", new int[] {1, 1, 1, 1, 1}, "stop", Map.of());
        assertEquals(-0.5 * (1 - 1.0 / 4.0), one(tok, ids), 1e-12);
        assertThrows(RewardConfigException.class, () -> new RepetitionReward(new RewardParams("repetition", Map.of("max_penalty", 1))));
    }

    @Test
    void overlongSoftPunishment() throws Exception {
        OverlongReward o = new OverlongReward(new RewardParams("overlong", Map.of("max_length", 100, "buffer_length", 20, "penalty_factor", 1.0)));
        assertEquals(0.0, o.value(50));
        assertEquals(0.0, o.value(80));
        assertEquals(-0.5, o.value(90), 1e-12);
        assertEquals(-1.0, o.value(100), 1e-12);
        assertEquals(-1.0, o.value(150), 1e-12);
        assertEquals(-0.25, one(o, new Completion("1", "", "", new int[85], "length", Map.of())), 1e-12);
        assertThrows(RewardConfigException.class, () -> new OverlongReward(RewardParams.empty("overlong")));
        assertThrows(RewardConfigException.class, () -> new OverlongReward(new RewardParams("overlong", Map.of("max_length", 10, "buffer_length", 20))));
    }
}
