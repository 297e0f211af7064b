package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.data.template.R1ZeroTemplate;
import io.r1kit.data.DatasetException;
import io.r1kit.data.testutil.ExprParser;
import io.r1kit.data.testutil.Rational;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The corpora that let the pipeline run from scratch: their knobs do what they say. */
class ToyUniverseTest {
    /** The R1 format, checked here with its own regex rather than the generator's notion of it. */
    static final Pattern FORMAT = Pattern.compile("^<think> (.+) </think> <answer> (.+) </answer>$", Pattern.DOTALL);
    static final int N = 6000;

    @Test
    void pretrainCorpusRatesFollowTheKnobsAndFlagsAreTruthful() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(3, GeneratorParams.empty());
        int plain = 0, chat = 0, reasoning = 0, formatted = 0, correct = 0, wrongAmongFormatted = 0, selfChecks = 0;
        for (int i = 0; i < N; i++) {
            Map<String, Object> m = g.generate(i);
            String text = (String) m.get("text");
            assertTrue(text.length() <= 256, "short enough for a tiny model's context: " + text);
            if (m.get("kind").equals("plain")) {
                plain++;
                assertFalse(text.contains("<think>"));
                continue;
            }
            if (m.get("kind").equals("chat")) {
                chat++;
                assertEquals("user: " + m.get("prompt") + "\nassistant: " + m.get("answer"), text);
                continue;
            }
            reasoning++;
            String prompt = (String) m.get("prompt"), completion = (String) m.get("completion");
            String rendered = PromptTemplates.byName("toy").render(new Example("x", Map.of("prompt", prompt)));
            assertEquals(rendered + " " + completion, text, "corpus text = RL prompt + reply");
            Matcher f = FORMAT.matcher(completion);
            boolean isFormatted = f.matches() && !f.group(1).contains("<") && !f.group(2).contains("<");
            assertEquals(isFormatted, m.get("formatted"), completion);
            if (isFormatted) {
                formatted++;
                boolean right = f.group(2).equals(m.get("answer"));
                assertEquals(right, m.get("correct"), completion);
                if (!right) wrongAmongFormatted++;
            }
            if ((Boolean) m.get("correct")) correct++;
            if (completion.contains("wait, let me check") || completion.contains("check:")) selfChecks++;
        }
        // Binomial standard deviations at these counts are ~0.005-0.01; 0.03 is a wide margin.
        assertEquals(0.2, plain / (double) N, 0.03, "plain_rate");
        assertEquals(0.05, chat / (double) N, 0.015, "chat_rate");
        assertEquals(0.5, formatted / (double) reasoning, 0.03, "format_rate");
        assertEquals(0.3, wrongAmongFormatted / (double) formatted, 0.03, "error_rate");
        assertTrue(correct / (double) reasoning > 0.45 && correct / (double) reasoning < 0.8, "latent but unreliable");
        assertTrue(selfChecks / (double) reasoning > 0.03, "some self-checks");
    }

    @Test
    void knobsMoveTheRates() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(3, new GeneratorParams(Map.of(
                "format_rate", "0.9", "error_rate", "0", "plain_rate", "0", "chat_rate", "0", "direct_error_rate", "0")));
        int formatted = 0;
        for (int i = 0; i < 2000; i++) {
            Map<String, Object> m = g.generate(i);
            assertEquals("reasoning", m.get("kind"));
            assertEquals(true, m.get("correct"), (String) m.get("completion"));
            if ((Boolean) m.get("formatted")) formatted++;
        }
        assertEquals(0.9, formatted / 2000.0, 0.03);
    }

    /** words_rate decides how steps are written: as words (first 47 plus 30 is 77.) or as symbols (47+30=77). */
    @Test
    void wordsRateChoosesWordsOrSymbolsForTheSteps() {
        Pattern symbolStep = Pattern.compile("\\d[+*-]\\d+=");
        for (String lang : List.of("en", "ru")) {
            String plus = lang.equals("en") ? " plus " : " плюс ";
            int[] wordy = new int[3], reasoned = new int[3];
            String[] rates = {"0", "0.3", "1.0"};
            for (int k = 0; k < rates.length; k++) {
                PretrainCorpusGenerator g = new PretrainCorpusGenerator(5, new GeneratorParams(Map.of("words_rate", rates[k],
                        "lang", lang, "plain_rate", "0", "chat_rate", "0", "ops", "+")));
                for (int i = 0; i < 2000; i++) {
                    Map<String, Object> m = g.generate(i);
                    String style = (String) m.get("style");
                    if (!style.contains("words") && !style.contains("symbols")) continue;   // a reply without reasoning
                    reasoned[k]++;
                    // the closing inverse check ("check: 85-8=77, ok") is symbolic in both styles: left out
                    String steps = ((String) m.get("completion")).replaceAll("(check|проверка): \\S+", "");
                    boolean inWords = steps.contains(plus);
                    assertEquals(!inWords, symbolStep.matcher(steps).find(), steps);
                    assertEquals(inWords, style.contains("words"), style + ": " + steps);
                    if (inWords) wordy[k]++;
                }
            }
            assertEquals(0, wordy[0], lang + ": words_rate=0 writes symbols only");
            assertEquals(0.3, wordy[1] / (double) reasoned[1], 0.04, lang + ": words_rate=0.3");
            assertEquals(reasoned[2], wordy[2], lang + ": words_rate=1 writes words only");
        }
    }

    @Test
    void templateParamIsUsedForTheCorpus() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(1, new GeneratorParams(Map.of("template", "r1-zero",
                "plain_rate", "0", "chat_rate", "0")));
        Map<String, Object> m = g.generate(0);
        assertTrue(((String) m.get("text")).startsWith(R1ZeroTemplate.apply((String) m.get("prompt")) + " "));
        PretrainCorpusGenerator custom = new PretrainCorpusGenerator(1, new GeneratorParams(Map.of("template", "Q: {prompt} A:",
                "plain_rate", "0", "chat_rate", "0")));
        assertTrue(((String) custom.generate(0).get("text")).startsWith("Q: " + m.get("prompt") + " A:"));
    }

    @Test
    void countdownCorpusRepliesAreRightWhenTheyClaimToBe() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(2, new GeneratorParams(Map.of("task", "countdown", "plain_rate", "0", "chat_rate", "0",
                "prompt_style", "short")));
        int right = 0;
        for (int i = 0; i < 500; i++) {
            Map<String, Object> m = g.generate(i);
            assertTrue(((String) m.get("prompt")).startsWith("reach " + m.get("target") + " with "), (String) m.get("prompt"));
            Matcher f = FORMAT.matcher((String) m.get("completion"));
            if (f.matches() && !f.group(2).contains("<")) {
                var p = ExprParser.parse(f.group(2));
                boolean hits = p.value.equals(Rational.of((Integer) m.get("target")));
                assertEquals(hits, m.get("correct"), (String) m.get("completion"));
                if (hits) right++;
            }
        }
        assertTrue(right > 50);
    }

    @Test
    void bilingualPairsShareTheProblemAndScriptsAreKeptApartOrMixed() {
        BilingualGenerator g = new BilingualGenerator(5, GeneratorParams.empty());
        Pattern cyr = Pattern.compile("\\p{IsCyrillic}"), lat = Pattern.compile("[a-z]{2,}");
        int mixed = 0;
        for (int i = 0; i < 600; i += 2) {
            Map<String, Object> en = g.generate(i), ru = g.generate(i + 1);
            assertEquals(en.get("answer"), ru.get("answer"));
            assertEquals(en.get("pair"), ru.get("pair"));
            assertEquals("en", en.get("language"));
            assertEquals("ru", ru.get("language"));
            assertTrue(cyr.matcher((String) ru.get("prompt")).find());
            assertFalse(cyr.matcher((String) en.get("prompt")).find());
            for (Map<String, Object> m : List.of(en, ru)) {
                String think = ((String) m.get("completion")).replaceAll("</?think>|</?answer>", "");
                boolean hasCyr = cyr.matcher(think).find(), hasLat = lat.matcher(think).find();
                switch ((String) m.get("cot_lang")) {
                    case "en" -> assertTrue(hasLat && !hasCyr, think);
                    case "ru" -> assertTrue(hasCyr && !hasLat, think);
                    default -> {
                        assertTrue(hasCyr && hasLat, think);
                        mixed++;
                    }
                }
            }
        }
        assertTrue(mixed > 60 && mixed < 300, "mixed_rate 0.3 of multi-step chains: " + mixed);
    }

    @Test
    void bilingualSlipRatesMakeOneLanguagesStepsUnreliableAndTheSlipCarriesThrough() {
        BilingualGenerator clean = new BilingualGenerator(5, new GeneratorParams(Map.of("mixed_rate", "0.5")));
        BilingualGenerator slips = new BilingualGenerator(5, new GeneratorParams(Map.of("slip_rate_ru", "0.3", "mixed_rate", "0.5")));
        Pattern answer = Pattern.compile("<answer> (-?\\d+) </answer>");
        Map<Integer, int[]> wrongByRuSteps = new HashMap<>();   // Russian steps in the chain -> {wrong, all}
        for (int i = 0; i < 2000; i++) {
            Map<String, Object> c = clean.generate(i), m = slips.generate(i);
            assertEquals(true, c.get("correct"));
            assertEquals(c.get("answer"), m.get("answer"));   // the reference stays the truth
            assertEquals(c.get("cot_lang"), m.get("cot_lang"));   // slips change numbers, not languages
            String completion = (String) m.get("completion");
            Matcher a = answer.matcher(completion);
            assertTrue(a.find(), completion);
            assertEquals(a.group(1).equals(m.get("answer")), m.get("correct"), completion);
            int ruSteps = completion.split(" будет ", -1).length - 1;
            int[] w = wrongByRuSteps.computeIfAbsent(ruSteps, k -> new int[2]);
            if (!(Boolean) m.get("correct")) w[0]++;
            w[1]++;
        }
        assertEquals(0, wrongByRuSteps.get(0)[0], "English steps never slip with slip_rate_en=0");
        double one = (double) wrongByRuSteps.get(1)[0] / wrongByRuSteps.get(1)[1];
        double two = (double) wrongByRuSteps.get(2)[0] / wrongByRuSteps.get(2)[1];
        assertTrue(one > 0.2 && one < 0.4, "one Russian step slips with p=0.3: " + one);
        assertTrue(two > one && two < 0.65, "two Russian steps slip more often, 1-0.7^2: " + two);
    }

    @Test
    void bilingualSwitchStyleChangesLanguageOnceAndMaySkipThePromptsLanguage() {
        BilingualGenerator g = new BilingualGenerator(5, new GeneratorParams(Map.of("mixed_style", "switch", "mixed_rate", "0.5")));
        Pattern cyr = Pattern.compile("\\p{IsCyrillic}");
        int mixed = 0, wholeOther = 0;
        for (int i = 0; i < 1000; i++) {
            Map<String, Object> m = g.generate(i);
            String c = (String) m.get("completion");
            String think = c.substring(c.indexOf("<think>") + 7, c.indexOf("</think>")).trim();
            String[] sentences = think.split("\\. ");
            boolean prompts = m.get("language").equals("ru");
            int changes = 0;
            for (int k = 1; k < sentences.length; k++) {
                if (cyr.matcher(sentences[k]).find() != cyr.matcher(sentences[k - 1]).find()) changes++;
            }
            if (m.get("cot_lang").equals("mixed")) {
                mixed++;
                assertTrue(changes <= 1, think);
                if (cyr.matcher(sentences[0]).find() != prompts) wholeOther++;
            } else {
                assertEquals(0, changes, think);
            }
        }
        assertTrue(mixed > 400 && mixed < 600, "mixed_rate 0.5 of all chains: " + mixed);
        assertTrue(wholeOther > 100, "some chains think in the other language from the first step: " + wholeOther);
        assertThrows(DatasetException.class,
                () -> new BilingualGenerator(5, new GeneratorParams(Map.of("mixed_style", "sometimes"))));
    }

    @Test
    void nonReasoningAnswersAreRightAndLookupsMatchTheWorldTheCorpusStates() {
        NonReasoningGenerator g = new NonReasoningGenerator(1, GeneratorParams.empty());
        ToyWorld world = ToyWorld.standard(7);
        Map<String, String> capitals = new HashMap<>();
        for (ToyWorld.Country c : world.countries) capitals.put(c.name(), c.capital());
        Map<String, Integer> categories = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            Map<String, Object> m = g.generate(i);
            String q = (String) m.get("prompt"), a = (String) m.get("answer");
            categories.merge((String) m.get("category"), 1, Integer::sum);
            assertTrue(a.length() < 80, a);
            if (q.startsWith("reverse: ")) assertEquals(new StringBuilder(q.substring(9)).reverse().toString(), a);
            if (q.startsWith("repeat: ")) assertEquals(q.substring(8), a);
            if (q.startsWith("count the words: ")) assertEquals(String.valueOf(q.substring(17).split(" ").length), a);
            if (q.startsWith("what is the capital of ")) {
                String country = q.substring(23, q.length() - 1);
                assertEquals(capitals.get(country) + ".", a);
            }
            List<?> msgs = (List<?>) m.get("messages");
            assertEquals(2, msgs.size());
        }
        assertEquals(4, categories.size(), categories.toString());
        // The corpus states the same facts.
        PretrainCorpusGenerator corpus = new PretrainCorpusGenerator(1, new GeneratorParams(Map.of("plain_rate", "1", "chat_rate", "0")));
        boolean stated = false;
        for (int i = 0; i < 2000 && !stated; i++) {
            String t = (String) corpus.generate(i).get("text");
            for (var c : world.countries) stated |= t.contains("the capital of " + c.name() + " is " + c.capital() + ".");
        }
        assertTrue(stated, "pretraining text states the capitals the SFT set asks about");
    }

    @Test
    void preferencePairsPreferTheHelpfulAndHarmlessReply() {
        PreferenceGenerator g = new PreferenceGenerator(1, GeneratorParams.empty());
        Map<String, Integer> kinds = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            Map<String, Object> m = g.generate(i);
            String kind = (String) m.get("kind"), chosen = (String) m.get("chosen"), rejected = (String) m.get("rejected");
            kinds.merge(kind, 1, Integer::sum);
            assertNotEquals(chosen, rejected);
            boolean chosenRefuses = chosen.matches(".*\\b(can't|won't)\\b.*");
            boolean rejectedRefuses = rejected.matches(".*\\b(can't|not able|will not)\\b.*");
            switch (kind) {
                case "harmless" -> assertTrue(chosenRefuses && !rejectedRefuses, m.toString());
                case "overrefusal" -> assertTrue(!chosenRefuses && rejectedRefuses, m.toString());
                default -> assertFalse(chosenRefuses, m.toString());
            }
        }
        assertEquals(0.35, kinds.get("harmless") / 1000.0, 0.05);
        assertEquals(0.15, kinds.get("overrefusal") / 1000.0, 0.04);
    }
}
