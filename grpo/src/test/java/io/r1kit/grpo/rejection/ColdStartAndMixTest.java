package io.r1kit.grpo.rejection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.TaskGenerator;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.sft.ExampleEncoder;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.data.DatasetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ColdStartAndMixTest {

    @Test
    void rewriteFollowsThePapersFormatExactly() {
        ColdStartFormat f = ColdStartFormat.defaults();
        assertEquals("|special_token|47+30=77, 77+8=85|special_token|85",
                f.rewrite("<think> 47+30=77, 77+8=85 </think> <answer> 85 </answer>"));
        // think prefill in the prompt: the completion starts inside the reasoning
        assertEquals("|special_token|a\nb|special_token|7", f.rewrite("a\nb\n</think>\n<answer>7</answer>"));
        // no answer tag: the summary is what follows </think>
        assertEquals("|special_token|r|special_token|so it is 7.", f.rewrite("<think>r</think>  so it is 7. "));
        // not rewritable
        assertNull(f.rewrite("<think> never closed"));
        assertNull(f.rewrite("<think> </think> <answer> 7 </answer>"));
        assertNull(f.rewrite("<think> r </think> <answer>  </answer>"));
        ColdStartFormat custom = ColdStartFormat.of(Map.of("reasoning_open", "<|begin_of_thought|>", "reasoning_close", "<|end_of_thought|>",
                "summary_template", "\nsummary: the answer is {summary}."));
        assertEquals("<|begin_of_thought|>r<|end_of_thought|>\nsummary: the answer is 7.", custom.rewrite("<think> r </think><answer>7</answer>"));
        assertThrows(IllegalArgumentException.class, () -> ColdStartFormat.of(Map.of("summary_template", "no placeholder")));
        assertThrows(IllegalArgumentException.class, () -> ColdStartFormat.of(Map.of("reasoning_opne", "x")));
    }

    @Test
    void coldStartFromASourceJsonlWithSeveralCompletionsPerPrompt(@TempDir Path tmp) throws Exception {
        Path src = tmp.resolve("zero.jsonl");
        write(src, List.of(
                "{\"id\":\"a\",\"prompt\":\"what is 1+2?\",\"answer\":\"3\",\"language\":\"en\",\"completion\":"
                        + "[\"<think> 1+2=3 </think> <answer> 3 </answer>\",\"<think> 1+2=4 </think> <answer> 4 </answer>\",\"3\"]}",
                "{\"id\":\"b\",\"prompt\":\"what is 2+2?\",\"answer\":\"4\",\"language\":\"en\",\"completion\":"
                        + "\"<think> two plus two, then плюс два </think> <answer> 4 </answer>\"}"));
        RejectionConfig cfg = RejectionConfig.of(Map.of("require_format", true));
        try (var rw = RejectionTestSupport.accuracyAndFormat()) {
            RejectionSampler.Stats s = new RejectionSampler(cfg, new JsonlSource(PromptTemplates.byName("toy"), cfg.completionColumn()),
                    RejectionSampler.judgeFor(cfg, rw, null, null)).rewrite(ColdStartFormat.defaults()::rewrite)
                    .run(Dataset.read(src).examples(), tmp.resolve("out"));
            assertEquals(4, s.samples());
            assertEquals(1, s.accepted());
            // "1+2=4" is wrong, a bare "3" is right but not in the <think>/<answer> format, b mixes languages in its reasoning
            assertEquals(Map.of("incorrect", 1L, "unformatted", 1L, "mixed_language", 1L), s.reasons());
            JsonNode line = RejectionTestSupport.lines(tmp.resolve("out").resolve(RejectionSampler.ACCEPTED)).get(0);
            assertEquals("|special_token|1+2=3|special_token|3", line.get("completion").asText());
            assertEquals("jsonl", line.get("source").asText());
            assertEquals("user: what is 1+2?\nassistant:", line.get("prompt_text").asText());
        }
    }

    static void write(Path f, List<String> lines) throws Exception {
        Files.write(f, lines);
    }

    @Test
    void mixTakesTheConfiguredCountsAndIsReadableBySft(@TempDir Path tmp) throws Exception {
        Path reasoning = tmp.resolve("accepted.jsonl"), non = tmp.resolve("non.jsonl"), out = tmp.resolve("mix.jsonl");
        List<String> r = new ArrayList<>();
        for (int i = 0; i < 30; i++) r.add("{\"id\":\"r" + i + "\",\"prompt\":\"what is " + i + "+1?\",\"completion\":\"<think> " + i + "+1=" + (i + 1)
                + " </think> <answer> " + (i + 1) + " </answer>\",\"source\":\"model\"}");
        write(reasoning, r);
        TaskGenerator g = Generators.create("nonreasoning", 1, GeneratorParams.empty());
        List<String> n = new ArrayList<>();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < 20; i++) n.add(json.writeValueAsString(g.generate(i)));
        write(non, n);

        SftMix.Result res = SftMix.mix(reasoning, non, SftMix.Config.of(Map.of("reasoning_samples", 12, "non_reasoning_samples", 4, "seed", 3)), out);
        assertEquals(12, res.reasoning());
        assertEquals(4, res.nonReasoning());
        assertEquals(30, res.reasoningAvailable());
        List<JsonNode> lines = RejectionTestSupport.lines(out);
        assertEquals(16, lines.size());
        int nonCount = 0;
        for (JsonNode l : lines) {
            assertTrue(l.hasNonNull("prompt") && l.hasNonNull("completion") && !l.has("messages"), l.toString());
            if (l.get("source").asText().equals("non_reasoning")) {
                nonCount++;
                assertEquals(l.get("answer").asText(), l.get("completion").asText());
            }
        }
        assertEquals(4, nonCount);
        // deterministic in the seed; asking for more than there is takes everything
        SftMix.mix(reasoning, non, SftMix.Config.of(Map.of("reasoning_samples", 12, "non_reasoning_samples", 4, "seed", 3)), tmp.resolve("b.jsonl"));
        assertEquals(Files.readString(out), Files.readString(tmp.resolve("b.jsonl")));
        SftMix.Result all = SftMix.mix(reasoning, non, SftMix.Config.of(Map.of("non_reasoning_samples", 100)), tmp.resolve("c.jsonl"));
        assertEquals(30, all.reasoning());
        assertEquals(20, all.nonReasoning());

        // SftTrainer's encoder reads the mix as prompt/completion examples
        List<String> texts = new ArrayList<>();
        for (JsonNode l : lines) texts.add(l.get("prompt").asText() + l.get("completion").asText());
        CharTokenizer tok = CharTokenizer.fromCorpus(texts, CharTokenizer.REASONING_TAGS);
        var enc = new ExampleEncoder(tok, PromptTemplates.byName("toy"), null, SftConfig.of(Map.of("template", "toy"))).encodeAll(Dataset.read(out));
        assertEquals(16, enc.examples().size());

        // user long-CoT data merged into a cold-start set
        Path user = tmp.resolve("user.jsonl");
        write(user, List.of("{\"prompt\":\"q\",\"completion\":\"|special_token|r|special_token|s\"}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"q2\"},{\"role\":\"assistant\",\"content\":\"a2\"}]}"));
        assertEquals(2, SftMix.concat(reasoning, user, "user", tmp.resolve("cold.jsonl")));
        List<JsonNode> cold = RejectionTestSupport.lines(tmp.resolve("cold.jsonl"));
        assertEquals(32, cold.size());
        assertEquals("user", cold.get(31).get("source").asText());
        assertEquals("a2", cold.get(31).get("completion").asText());
        Files.writeString(user, "{\"prompt\":\"only a prompt\"}\n");
        var e = assertThrows(DatasetException.class, () -> SftMix.concat(reasoning, user, "user", tmp.resolve("x.jsonl")));
        assertTrue(e.getMessage().contains("user.jsonl:1"), e.getMessage());
    }
}
