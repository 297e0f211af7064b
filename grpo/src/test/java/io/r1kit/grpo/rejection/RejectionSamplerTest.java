package io.r1kit.grpo.rejection;

import static io.r1kit.grpo.rejection.RejectionTestSupport.ex;
import static io.r1kit.grpo.rejection.RejectionTestSupport.lines;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Example;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.data.Dataset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RejectionSamplerTest {

    static String good(String reasoning, String answer) {
        return "<think> " + reasoning + " </think> <answer> " + answer + " </answer>";
    }

    /** Per prompt: 2 correct, a case/whitespace duplicate of the first, a wrong one, a code fence, a truncated one, a third correct. */
    static List<String> candidates(Example e) {
        String a = e.getString("answer");
        return List.of(good("i add the numbers", a), good("first i add, then i check", a), "<think>  I ADD the   numbers </think> <answer> " + a + " </answer>",
                good("i add the numbers", "999"), good("```x``` adding", a), "!len!" + good("i add", a), good("a third way", a));
    }

    static List<Example> prompts(int n) {
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(ex("p" + i, "what is " + i + "+" + (i + 1) + "?", Integer.toString(2 * i + 1)));
        return out;
    }

    @Test
    void judgesFiltersDedupsCapsAndWritesProvenance(@TempDir Path tmp) throws Exception {
        RejectionConfig cfg = RejectionConfig.of(Map.of("max_per_prompt", 2, "prompt_batch_size", 2));
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat()) {
            var src = new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates);
            RejectionSampler.Stats s = new RejectionSampler(cfg, src, new RuleJudge(rw, "accuracy", 1.0, "format", false)).run(prompts(3), tmp);
            assertEquals(3, s.promptsDone());
            assertEquals(21, s.samples());
            assertEquals(6, s.accepted());
            assertEquals(15, s.rejected());
            assertEquals(Map.of("incorrect", 3L, "code_block", 3L, "truncated", 3L, "duplicate", 3L, "over_cap", 3L), s.reasons());

            List<JsonNode> acc = lines(tmp.resolve(RejectionSampler.ACCEPTED));
            assertEquals(6, acc.size());
            JsonNode first = acc.get(0);
            assertEquals("p0-0", first.get("id").asText());
            assertEquals("what is 0+1?", first.get("prompt").asText());
            assertEquals(good("i add the numbers", "1"), first.get("completion").asText());
            assertEquals("p0", first.get("prompt_id").asText());
            assertEquals(0, first.get("sample_index").asInt());
            assertEquals("fake", first.get("source").asText());
            assertEquals(1.0, first.get("rewards").get("accuracy").asDouble());
            assertEquals("1", first.get("answer").asText());
            assertEquals("en", first.get("language").asText());
            assertEquals(0, first.get("filters").size());
            assertEquals(1, acc.get(1).get("sample_index").asInt());

            List<JsonNode> rej = lines(tmp.resolve(RejectionSampler.REJECTED));
            assertEquals(List.of("duplicate"), reasonsOf(rej.get(0)));
            assertEquals(2, rej.get(0).get("sample_index").asInt());
            assertEquals(List.of("incorrect"), reasonsOf(rej.get(1)));
            assertEquals(List.of("code_block"), reasonsOf(rej.get(2)));
            assertEquals("code_block", rej.get(2).get("filters").get(0).asText());
            assertEquals(List.of("truncated"), reasonsOf(rej.get(3)));
            assertEquals(List.of("over_cap"), reasonsOf(rej.get(4)));

            JsonNode stats = RejectionSampler.readStats(tmp);
            assertEquals(6, stats.get("accepted").asInt());
            assertEquals(3, stats.get("reasons").get("over_cap").asInt());
            assertTrue(stats.get("complete").asBoolean());
        }
    }

    static List<String> reasonsOf(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.get("reasons").forEach(r -> out.add(r.asText()));
        return out;
    }

    @Test
    void resumesAfterAKillWithoutLosingOrDuplicatingSamples(@TempDir Path tmp) throws Exception {
        RejectionConfig cfg = RejectionConfig.of(Map.of("max_per_prompt", 3, "prompt_batch_size", 4));
        List<Example> ps = prompts(10);
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat()) {
            Judge judge = new RuleJudge(rw, "accuracy", 1.0, "format", false);
            Path ref = tmp.resolve("ref"), run = tmp.resolve("run");
            new RejectionSampler(cfg, new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge).run(ps, ref);

            // killed right after prompt 5's progress marker (in the middle of the second chunk) ...
            var first = new RejectionSampler(cfg, new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge)
                    .afterPrompt(i -> { if (i == 5) throw new IllegalStateException("killed"); });
            assertThrows(IllegalStateException.class, () -> first.run(ps, run));
            // ... while prompt 6 was half written: a torn accepted line and a torn progress line
            Files.writeString(run.resolve(RejectionSampler.ACCEPTED), "{\"id\":\"p6-0\",\"prompt\":\"what", StandardOpenOption.APPEND);
            Files.writeString(run.resolve(RejectionSampler.PROGRESS), "{\"prompt_index\":6,\"prompt_id\":\"p", StandardOpenOption.APPEND);

            var src = new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates);
            RejectionSampler.Stats s = new RejectionSampler(cfg, src, judge).run(ps, run);
            // generation restarted at the chunk boundary (prompt 4), not at 0
            assertEquals(List.of("p4", "p5", "p6", "p7", "p8", "p9"), src.asked);
            for (String f : List.of(RejectionSampler.ACCEPTED, RejectionSampler.REJECTED, RejectionSampler.STATS)) {
                assertArrayEquals(Files.readAllBytes(ref.resolve(f)), Files.readAllBytes(run.resolve(f)), f + " differs from the uninterrupted run");
            }
            assertEquals(10, s.promptsDone());
            assertEquals(30, s.accepted());
            assertEquals(10, lines(run.resolve(RejectionSampler.PROGRESS)).size());

            // running again on a finished directory does nothing; a different prompt set is refused
            var again = new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates);
            new RejectionSampler(cfg, again, judge).run(ps, run);
            assertEquals(List.of(), again.asked);
            assertArrayEquals(Files.readAllBytes(ref.resolve(RejectionSampler.ACCEPTED)), Files.readAllBytes(run.resolve(RejectionSampler.ACCEPTED)));
            var e = assertThrows(IllegalStateException.class, () -> new RejectionSampler(cfg,
                    new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge).run(prompts(5), run));
            assertTrue(e.getMessage().contains("prompt set"), e.getMessage());
        }
    }

    @Test
    void dedupAcrossAResumeUsesTheAcceptedFile(@TempDir Path tmp) throws Exception {
        // the same prompt text twice: its second occurrence only yields duplicates, also when the run was killed in between
        List<Example> ps = List.of(ex("a", "what is 1+2?", "3"), ex("b", "what is 1+2?", "3"));
        RejectionConfig cfg = RejectionConfig.of(Map.of("prompt_batch_size", 1, "max_per_prompt", 0));
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat()) {
            Judge judge = new RuleJudge(rw, "accuracy", 1.0, "format", false);
            var killed = new RejectionSampler(cfg, new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge)
                    .afterPrompt(i -> { if (i == 0) throw new IllegalStateException("killed"); });
            assertThrows(IllegalStateException.class, () -> killed.run(ps, tmp));
            RejectionSampler.Stats s = new RejectionSampler(cfg, new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge).run(ps, tmp);
            assertEquals(3, s.accepted());
            assertEquals(1 + 4, s.reasons().get("duplicate"));   // a: sample 2 repeats 0; b: samples 0, 1, 2, 6 repeat a's
            RejectionSampler.Stats off = new RejectionSampler(cfg.with(Map.of("dedup", false)),
                    new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates), judge).run(ps, tmp.resolve("nodedup"));
            assertEquals(8, off.accepted());
            assertNull(off.reasons().get("duplicate"));
        }
    }

    @Test
    void coldStartKeepsCorrectWellFormattedSamplesRewrittenInTheReadableFormat(@TempDir Path tmp) throws Exception {
        RejectionConfig cfg = RejectionConfig.of(Map.of("require_format", true, "max_per_prompt", 1));
        ColdStartFormat fmt = ColdStartFormat.defaults();
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat()) {
            var src = new RejectionTestSupport.FakeSource(e -> List.of("<think> 1+2=3 </think> 3", good("1+2=3, check 3-2=1", "3")));
            RejectionSampler.Stats s = new RejectionSampler(cfg, src, new RuleJudge(rw, "accuracy", 1.0, "format", true))
                    .rewrite(fmt::rewrite).run(List.of(ex("a", "what is 1+2?", "3")), tmp);
            assertEquals(1, s.accepted());
            assertEquals(Map.of("unformatted", 1L), s.reasons());
            JsonNode line = lines(tmp.resolve(RejectionSampler.ACCEPTED)).get(0);
            assertEquals("|special_token|1+2=3, check 3-2=1|special_token|3", line.get("completion").asText());
            assertEquals(good("1+2=3, check 3-2=1", "3"), line.get("original_completion").asText());
        }
    }

    @Test
    void acceptedFileIsReadableAsAnSftDataset(@TempDir Path tmp) throws Exception {
        try (CompositeReward rw = RejectionTestSupport.accuracyAndFormat()) {
            new RejectionSampler(RejectionConfig.defaults(), new RejectionTestSupport.FakeSource(RejectionSamplerTest::candidates),
                    new RuleJudge(rw, "accuracy", 1.0, "format", false)).run(prompts(2), tmp);
        }
        var data = Dataset.read(tmp.resolve(RejectionSampler.ACCEPTED));
        assertEquals(6, data.size());
        for (Example e : data) {
            assertTrue(!e.isChat() && e.has("prompt") && e.has("completion"), e.toString());
        }
        String text = Files.readString(tmp.resolve(RejectionSampler.ACCEPTED), StandardCharsets.UTF_8);
        assertTrue(!text.contains("\"messages\""));
    }
}
