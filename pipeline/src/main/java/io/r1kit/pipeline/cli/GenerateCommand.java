package io.r1kit.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.ChatMessage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1kit generate --model DIR --prompt TEXT [-n N] [--max-new-tokens K] [--temperature T] [--seed S]}:
 * samples completions of a prompt and prints them.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample completions of a prompt with a Hugging Face model directory (needs its tokenizer.json).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory (config.json, safetensors, tokenizer.json).")
    Path model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "Prompt text (encoded with the tokenizer's special tokens, e.g. a BOS).")
    String prompt;

    @Option(names = "-n", defaultValue = "1", paramLabel = "N", description = "Completions to sample (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--max-new-tokens", defaultValue = "128", paramLabel = "K", description = "Maximum generated tokens (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T", description = "Sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Top-k, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "Top-p (nucleus), 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.0", paramLabel = "P", description = "Min-p, 0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--stop", paramLabel = "STRING", description = "Stop string (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--chat", description = "Wrap the prompt as one user message in the tokenizer's chat template (with the generation prompt).")
    boolean chat;

    @Option(names = "--json", description = "Print one JSON object per completion (text, token ids, log-probs, finish reason).")
    boolean json;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        try {
            if (!Files.isRegularFile(model.resolve("tokenizer.json"))) {
                System.err.println("r1kit generate: " + model.resolve("tokenizer.json") + " not found (the prompt is text)");
                return 1;
            }
            CausalLM m = CausalLM.load(model);
            try (HfTokenizer tok = HfTokenizer.load(model)) {
                int[] ids;
                if (chat) {
                    var template = tok.chatTemplate().orElse(null);
                    if (template == null) {
                        System.err.println("r1kit generate: --chat given but " + model + " has no chat template");
                        return 1;
                    }
                    // the rendered template already holds the special tokens (BOS, role markers)
                    ids = tok.encode(template.render(List.of(ChatMessage.user(prompt)), true), false);
                } else {
                    ids = tok.encode(prompt, true);
                }
                if (ids.length == 0) {
                    System.err.println("r1kit generate: the prompt encodes to no tokens");
                    return 1;
                }
                SamplingParams sp = new SamplingParams(temperature, topK, topP, minP, maxNewTokens, null, stop, false, seed, null);
                long t0 = System.nanoTime();
                List<Completion> cs = new Generator(m, tok).generate(List.of(ids), n, sp);
                double secs = (System.nanoTime() - t0) / 1e9;
                int total = 0;
                ObjectMapper om = new ObjectMapper();
                for (Completion c : cs) {
                    total += c.length();
                    if (json) {
                        ObjectNode o = om.createObjectNode();
                        o.put("index", c.sampleIndex());
                        o.put("text", c.text());
                        o.set("completion_ids", om.valueToTree(c.tokens()));
                        o.set("logprobs", om.valueToTree(c.logprobs()));
                        o.put("finish_reason", c.finishReason().wireName());
                        out.println(om.writeValueAsString(o));
                    } else {
                        out.printf("--- completion %d (%d tokens, finish_reason=%s) ---%n", c.sampleIndex(), c.length(), c.finishReason());
                        out.println(c.text());
                    }
                }
                System.err.printf("r1kit generate: %d completion(s), %d tokens in %.2f s (%.1f tokens/s)%n", cs.size(), total, secs, total / secs);
            }
            return 0;
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("r1kit generate: " + e.getMessage());
            return 1;
        }
    }
}
