package io.r1kit.grpo.rejection;

import static io.r1kit.grpo.rejection.RejectionTestSupport.ex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.rejection.GenerativeJudge.Verdict;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.rewards.CompositeReward;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerativeJudgeTest {

    @Test
    void verdictParsing() {
        assertEquals(Verdict.CORRECT, GenerativeJudge.parse("yes"));
        assertEquals(Verdict.CORRECT, GenerativeJudge.parse(" Yes."));
        assertEquals(Verdict.CORRECT, GenerativeJudge.parse("**Correct**"));
        assertEquals(Verdict.CORRECT, GenerativeJudge.parse("right, they match"));
        assertEquals(Verdict.INCORRECT, GenerativeJudge.parse("no"));
        assertEquals(Verdict.INCORRECT, GenerativeJudge.parse("Incorrect: the reference is 5"));
        assertEquals(Verdict.INCORRECT, GenerativeJudge.parse("not correct"));
        assertEquals(Verdict.INCORRECT, GenerativeJudge.parse("wrong. yes the reference differs"));   // the first verdict word decides
        assertEquals(Verdict.CORRECT, GenerativeJudge.parse("<think> no idea at first... </think> yes"));   // reasoning skipped
        assertEquals(Verdict.UNPARSEABLE, GenerativeJudge.parse("the answer is 5"));
        assertEquals(Verdict.UNPARSEABLE, GenerativeJudge.parse(""));
        assertEquals(Verdict.UNPARSEABLE, GenerativeJudge.parse(null));
        assertEquals(Verdict.UNPARSEABLE, GenerativeJudge.parse("yesterday nothing"));   // whole words only
        assertEquals("unparseable_verdict", GenerativeJudge.toJudgement("hmm").reason());
        assertFalse(GenerativeJudge.toJudgement("hmm").correct());
        assertTrue(GenerativeJudge.toJudgement("yes").correct());
        assertEquals("incorrect", GenerativeJudge.toJudgement("no").reason());
    }

    @Test
    void promptShowsQuestionReferenceAndTheSummaryOnly() {
        GenerativeJudge j = new GenerativeJudge(null, null, "Q={question} R={reference} P={prediction}", "prompt", "answer", 8);
        Candidate c = new Candidate(0, "p", "<think> long reasoning </think>  the answer is 7 ", "stop", null);
        assertEquals("Q=what is 3+4? R=7 P=the answer is 7", j.prompt(ex("a", "what is 3+4?", "7"), c));
    }

    static final CharTokenizer TOK = CharTokenizer.fromAlphabet("abcdefghijklmnopqrstuvwxyz0123456789 +-*=:?.,\n", CharTokenizer.REASONING_TAGS);

    @Test
    void modelBackedSamplingWithAGenerativeJudgeRejectsUnparseableVerdicts(@TempDir Path tmp) throws Exception {
        // a random tiny model as both policy and judge: its verdicts are noise, which must reject (and be counted), never accept
        ModelConfig c = ModelConfig.llama(TOK.vocabSize(), 32, 64, 2, 2, 2).withRope(10000.0, RopeTables.Scaling.none(), 256);
        CausalLM m = CausalLM.random(c, 3);
        Generator gen = new Generator(m, TOK);
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat();
             Rollouts ro = new Rollouts(TOK, PromptTemplates.byName("toy"), rw, 64, true, "accuracy", "format", 1.0)) {
            RejectionConfig cfg = RejectionConfig.of(Map.of("samples_per_prompt", 3, "max_new_tokens", 10, "judge", "generative",
                    "prompt_batch_size", 2, "temperature", 1.0));
            ModelSource src = new ModelSource(ro, gen, SamplingParams.sample(1.0f, 10, 5).withTopP(0.95f), 3);
            GenerativeJudge judge = new GenerativeJudge(gen, TOK, "q: {question} ref: {reference} pred: {prediction} ok?", "prompt", "answer", 6);
            List<Example> ps = List.of(ex("a", "what is 1+2?", "3"), ex("b", "what is 2+2?", "4"), ex("c", "what is 3+2?", "5"));
            RejectionSampler.Stats s = new RejectionSampler(cfg, src, judge).run(ps, tmp);
            assertEquals(9, s.samples());
            assertEquals(9, s.accepted() + s.rejected());
            int unparseable = 0;
            for (JsonNode n : RejectionTestSupport.lines(tmp.resolve(RejectionSampler.REJECTED))) {
                String verdict = n.get("judge_verdict").asText();
                Verdict v = GenerativeJudge.parse(verdict);
                if (v == Verdict.UNPARSEABLE) {
                    unparseable++;
                    assertTrue(n.get("reasons").toString().contains("unparseable_verdict"), n.toString());
                }
                assertEquals("user: " + n.get("prompt").asText() + "\nassistant:", n.get("prompt_text").asText());
            }
            assertEquals(unparseable, s.reasons().getOrDefault("unparseable_verdict", 0L));
            assertTrue(unparseable > 0, "a random judge should produce unparseable verdicts: " + s);
            for (JsonNode n : RejectionTestSupport.lines(tmp.resolve(RejectionSampler.ACCEPTED)))
                assertEquals(Verdict.CORRECT, GenerativeJudge.parse(n.get("judge_verdict").asText()));
            // the sampling is reproducible: a second run draws the same completions
            RejectionSampler.Stats s2 = new RejectionSampler(cfg, new ModelSource(ro, gen, SamplingParams.sample(1.0f, 10, 5).withTopP(0.95f), 3),
                    judge).run(ps, tmp.resolve("again"));
            assertEquals(java.nio.file.Files.readString(tmp.resolve(RejectionSampler.REJECTED)),
                    java.nio.file.Files.readString(tmp.resolve("again").resolve(RejectionSampler.REJECTED)));
            assertEquals(s.accepted(), s2.accepted());
        }
    }
}
