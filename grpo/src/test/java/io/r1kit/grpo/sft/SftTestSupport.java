package io.r1kit.grpo.sft;

import io.r1kit.data.Example;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tokenizer.CharTokenizer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Tiny models and examples for the SFT tests. */
final class SftTestSupport {
    private SftTestSupport() {}

    static final CharTokenizer TOK = CharTokenizer.fromAlphabet("abcdefghijklmnopqrstuvwxyz0123456789 +-*=:?.,\n", CharTokenizer.REASONING_TAGS);

    /** 2 layers, width 32: a forward/backward of a few rows takes milliseconds. */
    static CausalLM tinyModel(long seed) {
        ModelConfig c = ModelConfig.llama(TOK.vocabSize(), 32, 64, 2, 2, 2).withRope(10000.0, RopeTables.Scaling.none(), 128);
        return CausalLM.random(c, seed);
    }

    static Example pc(String id, String prompt, String completion) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("completion", completion);
        return new Example(id, m);
    }

    /** A snake_case config map from key, value pairs (Map.of stops at 10 pairs). */
    static Map<String, Object> kv(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], pairs[i + 1]);
        return m;
    }

    static Example text(String id, String text) {
        return new Example(id, Map.of("text", text));
    }
}
