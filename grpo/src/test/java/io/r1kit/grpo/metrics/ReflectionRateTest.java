package io.r1kit.grpo.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReflectionRateTest {
    private static final List<String> R1 = List.of("wait", "re-evaluate", "verify", "check");

    @Test
    void shareOfCompletionsWithAPhraseAtAWordStartIgnoringCase() {
        List<String> texts = List.of(
                "<think> 3+4=7, not 9. Wait, 3*4=12 </think>",   // "Wait" after a space, any case
                "checking: 12-3=9, ok",                              // "check" starts "checking"
                "we await the answer",                               // "wait" inside "await": not a word start
                "let me re-evaluate that step",                      // a phrase with a hyphen
                "2+2=4",
                "(verify) 5");                                       // after punctuation
        assertEquals(4.0 / 6, ReflectionRate.of(texts, R1), 1e-12);
        assertEquals(1.0 / 6, ReflectionRate.of(texts, List.of("WAIT")), 1e-12);
        assertEquals(0.0, ReflectionRate.of(texts, List.of("hmm")), 0.0);
        assertEquals(1.0, ReflectionRate.of(List.of("let me check again"), List.of("me check")), 0.0);
        assertTrue(Double.isNaN(ReflectionRate.of(List.of(), R1)));
    }

    @Test
    void aCompletionCountsOnceHoweverManyPhrasesItHas() {
        assertEquals(0.5, ReflectionRate.of(List.of("wait, check, verify, wait", "no"), R1), 0.0);
    }

    @Test
    void grpoConfigBindsTheListAndRejectsBlankPhrases() {
        assertEquals(List.of(), GrpoConfig.defaults().reflectionWords());
        GrpoConfig c = GrpoConfig.of(Map.of("reflection_words", List.of("wait", "verify")));
        assertEquals(List.of("wait", "verify"), c.reflectionWords());
        assertEquals(List.of("wait", "verify"), c.toMap().get("reflection_words"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GrpoConfig.of(Map.of("reflection_words", List.of("wait", " "))));
        assertTrue(e.getMessage().contains("reflection_words"), e.getMessage());
    }
}
