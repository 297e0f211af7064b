package io.r1kit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.hf.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CharTokenizer on its own, and against the Rust tokenizers library loading its saved tokenizer.json. */
class CharTokenizerTest {

    @TempDir
    Path tmp;

    static final List<String> SAMPLES = List.of(
            "<think>12+30=42</think><answer>42</answer>",
            "<think>\nline one\r\nline two\n</think>\n<answer> 7 </answer>",
            "a<thinkb</think></think>>x", // a partial tag is plain characters
            "unknown: Ωé😀 chars",
            "<|bos|>specials in text<|eos|><|pad|>",
            "",
            "   ",
            "<answer></answer><think>");

    static CharTokenizer arithmetic() {
        return CharTokenizer.fromCorpus(List.of("<think>12+30=42</think><answer>42</answer>", "abcdefghijklmnopqrstuvwxyz <>/\n\r"),
                CharTokenizer.REASONING_TAGS);
    }

    @Test
    void idsLayoutAndBasicEncoding() {
        CharTokenizer t = arithmetic();
        assertEquals(0, t.padId().orElseThrow());
        assertEquals(1, t.bosId().orElseThrow());
        assertEquals(2, t.eosId().orElseThrow());
        assertEquals(3, t.unkId());
        assertEquals(Set.of(2), t.eosIds());
        assertEquals(4, t.tokenToId("<think>").orElseThrow());
        assertEquals(7, t.tokenToId("</answer>").orElseThrow());
        int one = t.tokenToId("1").orElseThrow(), two = t.tokenToId("2").orElseThrow();
        assertArrayEquals(new int[] {4, one, two, 5}, t.encode("<think>12</think>"));
        assertArrayEquals(new int[] {1, one}, t.encode("1", true));
        assertArrayEquals(new int[] {one, 3, two}, t.encode("1Ω2"), "unknown character -> <|unk|>");
        assertEquals("<think>12</think>", t.decode(t.encode("<think>12</think>"), true), "tags are not special: kept");
        assertEquals("12", t.decode(new int[] {1, one, two, 2, 0}, true));
        assertEquals("<|bos|>12<|eos|><|pad|>", t.decode(new int[] {1, one, two, 2, 0}, false));
        assertEquals("1", t.decode(new int[] {one, t.vocabSize(), t.vocabSize() + 100}, false), "unknown ids decode to nothing");
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}, false));
        int checked = 0;
        for (String s : SAMPLES) {
            int[] ids = t.encode(s);
            if (java.util.Arrays.stream(ids).anyMatch(id -> id == t.unkId())) continue; // characters outside the corpus
            assertEquals(s, t.decode(ids, false), s);
            checked++;
        }
        assertTrue(checked >= 4, "round trip checked on " + checked + " samples");
    }

    @Test
    void fromAlphabetKeepsOrderAndRejectsBadTags() {
        CharTokenizer t = CharTokenizer.fromAlphabet("0123456789+-=", List.of());
        assertEquals(4 + 13, t.vocabSize());
        assertEquals(4, t.tokenToId("0").orElseThrow());
        assertArrayEquals(new int[] {3, 3}, t.encode("<>"));
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromAlphabet("ab", List.of("x")));
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromAlphabet("ab", List.of("<t>", "<t>")));
    }

    @Test
    void savedTokenizerJsonEncodesIdenticallyInRust() throws IOException {
        CharTokenizer t = CharTokenizer.fromCorpus(List.of(String.join("", SAMPLES).replace("Ω", "")), CharTokenizer.REASONING_TAGS);
        Path dir = tmp.resolve("char");
        t.save(dir);
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [2, 5]}");
        try (HfTokenizer hf = HfTokenizer.load(dir)) {
            assertEquals(t.vocabSize(), hf.vocabSize());
            for (int id = 0; id < t.vocabSize(); id++) {
                assertEquals(t.idToToken(id), hf.idToToken(id), "id " + id);
                assertEquals(t.isSpecial(id), hf.isSpecial(id), "id " + id);
            }
            assertEquals(t.bosId(), hf.bosId());
            assertEquals(t.eosId(), hf.eosId());
            assertEquals(t.padId(), hf.padId());
            assertEquals(Set.of(2, 5), hf.eosIds(), "generation_config adds stop ids");
            int[] withUnknown = {t.tokenToId("a").orElseThrow(), t.vocabSize(), t.vocabSize() + 7};
            assertEquals(t.decode(withUnknown, false), hf.decode(withUnknown, false));
            assertThrows(IllegalArgumentException.class, () -> hf.decode(new int[] {-3}, false));
            for (String s : SAMPLES) {
                for (boolean special : new boolean[] {false, true}) {
                    int[] ours = t.encode(s, special);
                    assertArrayEquals(ours, hf.encode(s, special), () -> "'" + s + "' special=" + special);
                    assertEquals(t.decode(ours, false), hf.decode(ours, false), s);
                    assertEquals(t.decode(ours, true), hf.decode(ours, true), s);
                }
            }
            assertTrue(Files.readString(dir.resolve("tokenizer.json")).contains("\"WordLevel\""));
            assertFalse(hf.chatTemplate().isPresent());
        }
    }

    @Test
    void savedChatTemplateRendersAndEncodes() throws IOException {
        CharTokenizer t = CharTokenizer.fromAlphabet("0123456789+=? abcdefghijklmnopqrstuvwxyz:\n", CharTokenizer.REASONING_TAGS);
        Path dir = tmp.resolve("chat");
        t.save(dir, "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant: <think>{% endif %}");
        try (HfTokenizer hf = HfTokenizer.load(dir)) {
            String prompt = hf.chatTemplate().orElseThrow().render(List.of(ChatMessage.user("what is 2+3?")), true);
            assertEquals("<|bos|>user: what is 2+3?\nassistant: <think>", prompt);
            int[] ids = hf.encode(prompt);
            assertArrayEquals(t.encode(prompt), ids);
            assertEquals(1, ids[0]);
            assertEquals(4, ids[ids.length - 1], "<think> is one token");
        }
    }

    @Test
    void minimalWordLevelTokenizerLoads() throws IOException {
        // The smallest tokenizer.json the logprobs CLI contract allows: a WordLevel vocab and a whitespace split.
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, """
                {"version": "1.0",
                 "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "the": 1, "cat": 2, "sat": 3}, "unk_token": "[UNK]"},
                 "pre_tokenizer": {"type": "Whitespace"}}
                """);
        try (HfTokenizer hf = HfTokenizer.load(f)) {
            assertEquals(4, hf.vocabSize());
            assertArrayEquals(new int[] {1, 2, 3, 0}, hf.encode("the cat sat down"));
            assertEquals(2, hf.tokenToId("cat").orElseThrow());
            assertTrue(hf.eosIds().isEmpty());
            assertFalse(hf.chatTemplate().isPresent());
        }
    }

    @Test
    void badTokenizerFilesGiveClearErrors() throws IOException {
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, "{\"model\": {\"type\": \"WordLevel\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("model.vocab"), e.getMessage());

        Files.writeString(f, "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}}");
        e = assertThrows(CheckpointException.class, () -> HfTokenizer.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("rejected"), e.getMessage());

        Path dir = tmp.resolve("d");
        CharTokenizer.fromAlphabet("ab", List.of()).save(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|not_there|>\"}");
        e = assertThrows(CheckpointException.class, () -> HfTokenizer.load(dir));
        assertTrue(e.getMessage().contains("eos_token") && e.getMessage().contains("<|not_there|>"), e.getMessage());
    }
}
