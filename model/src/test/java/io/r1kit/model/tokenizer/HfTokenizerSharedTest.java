package io.r1kit.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real Qwen3 and DeepSeek-V3 tokenizers from {@code ../shared/tokenizers} (system property
 * {@code r1kit.shared}); skipped with a message when that folder is absent.
 *
 * <p>Expected chat strings follow from reading each template (Qwen3 drops the reasoning of assistant
 * turns before the last user query; DeepSeek-V3 concatenates role markers with no newlines) and were
 * cross-checked against Python Jinja2 with transformers' settings.
 */
class HfTokenizerSharedTest {

    static HfTokenizer qwen3;
    static HfTokenizer deepseek;

    static final String MIXED = "The answer is $\\frac{1}{2} + \\sqrt{x^2+1}$.\n"
            + "我们用中文解释：二加二等于四。\n\tTabs, emoji 🤖, accents é, and \\begin{align} a &= b \\end{align}  ";

    static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant."),
            ChatMessage.user("What is 2+2?"),
            ChatMessage.assistant("<think>\nSimple arithmetic.\n</think>\n\n2+2 = 4."),
            ChatMessage.user("And 3+3? 用中文回答。"));

    static final String SHARED = System.getProperty("r1kit.shared");

    static boolean available() {
        return SHARED != null && Files.isDirectory(Path.of(SHARED, "tokenizers", "qwen3"))
                && Files.isDirectory(Path.of(SHARED, "tokenizers", "deepseek-v3"));
    }

    @BeforeAll
    static void load() throws Exception {
        if (!available()) return; // each test then reports itself skipped, with the reason
        // Building a 150k-merge BPE takes the Rust library a second or two: build both at once.
        ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus(); // extract/load the native library once, first
        var other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return HfTokenizer.load(Path.of(SHARED, "tokenizers", "deepseek-v3"));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        qwen3 = HfTokenizer.load(Path.of(SHARED, "tokenizers", "qwen3"));
        deepseek = other.join();
    }

    @BeforeEach
    void requireSharedTokenizers() {
        Assumptions.assumeTrue(qwen3 != null, "skipped: real tokenizers not found under r1kit.shared=" + SHARED
                + " (expected tokenizers/qwen3 and tokenizers/deepseek-v3)");
    }

    @AfterAll
    static void close() {
        if (qwen3 != null) qwen3.close();
        if (deepseek != null) deepseek.close();
    }

    @Test
    void qwen3SpecialTokens() {
        assertEquals(151669, qwen3.vocabSize());
        assertEquals(151644, qwen3.tokenToId("<|im_start|>").orElseThrow());
        assertEquals(151645, qwen3.eosId().orElseThrow());
        assertEquals(151643, qwen3.padId().orElseThrow());
        assertTrue(qwen3.bosId().isEmpty(), "Qwen3 has no BOS token");
        assertEquals(Set.of(151645), qwen3.eosIds());
        assertTrue(qwen3.isSpecial(151644));
        assertFalse(qwen3.isSpecial(151667), "<think> is an added but not a special token in Qwen3");
        assertEquals("<think>", qwen3.idToToken(151667).orElseThrow());
        assertTrue(qwen3.specialTokens().containsAll(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>")));
        assertEquals("Hello", qwen3.idToToken(9707).orElseThrow());
    }

    @Test
    void qwen3EncodesKnownIdsAndRoundTrips() {
        assertArrayEquals(new int[] {9707, 11, 1879, 0}, qwen3.encode("Hello, world!"));
        // 151700 is a row of Qwen3's 151936-row embedding with no token: decodes to nothing, as in transformers.
        assertEquals("Hello", qwen3.decode(new int[] {9707, 151700}, false));
        assertArrayEquals(new int[] {151644, 872, 198, 6023, 151645}, qwen3.encode("<|im_start|>user\nhi<|im_end|>"));
        assertArrayEquals(qwen3.encode(MIXED, false), qwen3.encode(MIXED, true), "Qwen adds no special tokens");
        int[] ids = qwen3.encode(MIXED);
        assertEquals(MIXED, qwen3.decode(ids, false));
        int[] chat = qwen3.encode("<|im_start|>user\n" + MIXED + "<|im_end|>");
        assertEquals(MIXED, qwen3.decode(chat, true).substring("user\n".length()));
    }

    @Test
    void longTextIsNotTruncated() {
        String text = "word ".repeat(3000);
        int[] ids = qwen3.encode(text);
        assertEquals(3001, ids.length, "3000 x 'word' + one trailing space; DJL's default would cut at 512");
        assertEquals(text, qwen3.decode(ids, false));
    }

    @Test
    void deepseekAddsBosLikeTransformers() {
        assertEquals(0, deepseek.bosId().orElseThrow());
        assertEquals(1, deepseek.eosId().orElseThrow());
        assertEquals(1, deepseek.padId().orElseThrow());
        int[] plain = deepseek.encode(MIXED, false);
        int[] withBos = deepseek.encode(MIXED, true);
        assertEquals(plain.length + 1, withBos.length);
        assertEquals(0, withBos[0]);
        assertArrayEquals(plain, Arrays.copyOfRange(withBos, 1, withBos.length));
        assertEquals(MIXED, deepseek.decode(plain, false));
        assertEquals(MIXED, deepseek.decode(withBos, true));
        assertArrayEquals(new int[] {0, 128803, 23166, 128804}, deepseek.encode("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>"));
    }

    @Test
    void qwen3ChatTemplate() {
        ChatTemplate t = qwen3.chatTemplate().orElseThrow();
        String history = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n2+2 = 4.<|im_end|>\n" // reasoning of an earlier turn is dropped
                + "<|im_start|>user\nAnd 3+3? 用中文回答。<|im_end|>\n";
        assertEquals(history, t.render(CONVERSATION, false));
        assertEquals(history + "<|im_start|>assistant\n", t.render(CONVERSATION, true));
        assertEquals(history + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
                t.render(CONVERSATION, true, Map.of("enable_thinking", false)));
        List<ChatMessage> withAnswer = new ArrayList<>(CONVERSATION);
        withAnswer.add(ChatMessage.assistant("<think>\n3+3 is 6.\n</think>\n\n3+3 = 6。"));
        assertEquals(history + "<|im_start|>assistant\n<think>\n3+3 is 6.\n</think>\n\n3+3 = 6。<|im_end|>\n",
                t.render(withAnswer, false), "the last assistant turn keeps its reasoning");
        assertEquals("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
                t.render(List.of(ChatMessage.user("What is 2+2?")), true));
        // The rendered prompt tokenizes with the role markers as single ids.
        int[] ids = qwen3.encode(t.render(CONVERSATION, true));
        assertEquals(151644, ids[0]);
        assertEquals(198, ids[ids.length - 1]);
        assertEquals(151644, ids[ids.length - 3]);
    }

    @Test
    void deepseekChatTemplate() {
        ChatTemplate t = deepseek.chatTemplate().orElseThrow();
        String history = "<｜begin▁of▁sentence｜>You are a helpful assistant."
                + "<｜User｜>What is 2+2?"
                + "<｜Assistant｜><think>\nSimple arithmetic.\n</think>\n\n2+2 = 4.<｜end▁of▁sentence｜>"
                + "<｜User｜>And 3+3? 用中文回答。";
        assertEquals(history, t.render(CONVERSATION, false));
        assertEquals(history + "<｜Assistant｜>", t.render(CONVERSATION, true));
        int[] ids = deepseek.encode(t.render(CONVERSATION, true), false);
        assertEquals(0, ids[0], "the template writes the BOS itself");
        assertEquals(128804, ids[ids.length - 1]);
    }

    @Test
    void concurrentEncodeMatchesSequential() throws Exception {
        List<String> texts = List.of(MIXED, "Hello, world!", "word ".repeat(700), "<|im_start|>user\nhi<|im_end|>", "数学", "");
        List<int[]> expected = new ArrayList<>();
        for (String s : texts) expected.add(qwen3.encode(s));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                final int offset = w;
                results.add(pool.submit(() -> {
                    for (int it = 0; it < 60; it++) {
                        int k = (it + offset) % texts.size();
                        if (!Arrays.equals(expected.get(k), qwen3.encode(texts.get(k)))) return false;
                        if (!texts.get(k).equals(qwen3.decode(expected.get(k), false))) return false;
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
