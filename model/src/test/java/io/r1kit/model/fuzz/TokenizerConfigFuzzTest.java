package io.r1kit.model.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.tokenizer.ChatMessage;
import io.r1kit.model.tokenizer.ChatTemplate;
import io.r1kit.model.tokenizer.ChatTemplateException;
import io.r1kit.model.tokenizer.HfTokenizerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz target for tokenizer_config.json and the chat template it carries: read, then render a
 * conversation. Refusals are a CheckpointException naming the file, or a ChatTemplateException
 * naming the chat template.
 */
class TokenizerConfigFuzzTest {

    @TempDir
    Path tmp;

    static final String SMALL = """
            {"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}, "pad_token": null,
             "add_bos_token": true, "model_max_length": 4096, "additional_special_tokens": ["<think>", "</think>"],
             "chat_template": "{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}\\n{% else %}<|{{ m['role'] }}|>{{ m['content'] | trim }}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|><think>{% endif %}"}
            """;

    @Test
    void tokenizerConfigAndChatTemplate() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(SMALL.getBytes(StandardCharsets.UTF_8));
        for (String name : List.of("qwen3", "deepseek-v3")) {
            Path real = Path.of(System.getProperty("user.dir"), "..", "..", "shared", "tokenizers", name, "tokenizer_config.json");
            if (Files.isRegularFile(real)) seeds.add(Files.readAllBytes(real));
            else System.out.println("fuzz tokenizer-config: " + real.normalize() + " absent, its seed is skipped");
        }
        Path file = tmp.resolve("tokenizer_config.json");
        List<ChatMessage> chat = List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "What is 2+3?"),
                new ChatMessage("assistant", "5"), new ChatMessage("user", "And 4*4?"));
        int accepted = new FuzzTarget("tokenizer-config", seeds).run(List.of(IOException.class, ChatTemplateException.class),
                "tokenizer_config.json|chat template", input -> {
                    Files.write(file, input);
                    HfTokenizerConfig c = HfTokenizerConfig.read(file);
                    if (c.chatTemplate() != null) {
                        Map<String, String> special = new HashMap<>();
                        if (c.bosToken() != null) special.put("bos_token", c.bosToken());
                        if (c.eosToken() != null) special.put("eos_token", c.eosToken());
                        ChatTemplate.of(c.chatTemplate(), special).render(chat, true);
                    }
                });
        assertTrue(accepted > 0, "the valid seeds must be accepted");
    }
}
