package io.r1kit.grpo.rejection;

import static io.r1kit.grpo.rejection.RejectionTestSupport.ex;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r1kit.data.Example;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SampleFiltersTest {

    static List<String> reasons(RejectionConfig cfg, Example e, String completion, String finish) {
        return new SampleFilters(cfg).reasons(e, List.of(new Candidate(0, "p", completion, finish, null))).get(0);
    }

    @Test
    void mixedLanguageChainOfThoughtIsRejectedBelowTheThreshold() {
        RejectionConfig cfg = RejectionConfig.defaults();
        Example e = ex("a", "what is 47+38?", "85");
        assertEquals(List.of(), reasons(cfg, e, "<think> first 47 plus 30 is 77, then 77 plus 8 is 85 </think> <answer> 85 </answer>", "stop"));
        // 5 of 11 words Russian: consistency 6/11 < 0.95
        String mixed = "<think> first 47 plus 30 is 77, потом 77 плюс 8 будет 85 </think> <answer> 85 </answer>";
        assertEquals(List.of(SampleFilters.MIXED_LANGUAGE), reasons(cfg, e, mixed, "stop"));
        // a fixed target language overrides the column; threshold 0 switches the filter off
        assertEquals(List.of(), reasons(cfg.with(Map.of("language_threshold", 0.0)), e, mixed, "stop"));
        assertEquals(List.of(SampleFilters.MIXED_LANGUAGE),
                reasons(cfg.with(Map.of("language", "ru")), e, "<think> first 47 plus 30 </think> 77", "stop"));
        // no words in the chain of thought (null score): passes
        assertEquals(List.of(), reasons(cfg, e, "<think> 47+38=85 </think> <answer> 85 </answer>", "stop"));
    }

    @Test
    void longParagraphsAreRejected() {
        RejectionConfig cfg = RejectionConfig.of(Map.of("max_paragraph_chars", 40));
        Example e = ex("a", "q", "1");
        String forty = "a".repeat(40), fortyOne = "b".repeat(41);
        assertEquals(40, SampleFilters.longestParagraph(forty + "\n\n" + forty));
        assertEquals(41, SampleFilters.longestParagraph(forty + "\n \n" + fortyOne + "\n"));
        assertEquals(List.of(), reasons(cfg, e, forty + "\n\n" + forty, "stop"));
        // a single newline does not end a paragraph
        assertEquals(List.of(SampleFilters.LONG_PARAGRAPH), reasons(cfg, e, "aaaa aaaa aaaa aaaa\naaaa aaaa aaaa aaaa aaaa", "stop"));
        assertEquals(List.of(), reasons(cfg.with(Map.of("max_paragraph_chars", 0)), e, fortyOne + fortyOne, "stop"));
    }

    @Test
    void codeFencesAreRejectedUnlessThePromptIsAboutCode() {
        RejectionConfig cfg = RejectionConfig.defaults();
        String fenced = "<think> add them </think> ```\n2+3\n``` <answer> 5 </answer>";
        assertEquals(List.of(SampleFilters.CODE_BLOCK), reasons(cfg, ex("a", "what is 2+3?", "5"), fenced, "stop"));
        assertEquals(List.of(), reasons(cfg, ex("b", "write python code that adds 2 and 3", "5"), fenced, "stop"));
        assertEquals(List.of(), reasons(cfg.with(Map.of("filter_code_blocks", false)), ex("a", "what is 2+3?", "5"), fenced, "stop"));
        assertEquals(List.of(), reasons(cfg, ex("a", "what is 2+3?", "5"), "<think> `x` inline is fine </think> 5", "stop"));
    }

    @Test
    void truncatedCompletionsAreRejectedAndAllReasonsAreListed() {
        RejectionConfig cfg = RejectionConfig.of(Map.of("max_paragraph_chars", 10));
        assertEquals(List.of(SampleFilters.TRUNCATED, SampleFilters.LONG_PARAGRAPH, SampleFilters.CODE_BLOCK),
                reasons(cfg, ex("a", "what is 2+3?", "5"), "<think> adding two and three ``` </think>", "length"));
        assertEquals(List.of(), reasons(cfg.with(Map.of("drop_truncated", false)), ex("a", "q", "5"), "short", "length"));
    }

    @Test
    void normalisationForDedup() {
        assertEquals("<think> a b </think> 5", SampleFilters.normalize("  <THINK>  a\n\tb </think> 5 \n"));
    }
}
