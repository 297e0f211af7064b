package io.r1kit.model.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The job behind {@code r1kit logprobs}: teacher-forced log-probabilities of completions read from
 * a JSONL file. Each input line is {@code {"prompt_ids":[…], "completion_ids":[…]}} or
 * {@code {"prompt":"…", "completion":"…"}}; each output line is the input object plus
 * {@code "logprobs":[…]}, one float per completion token: log p(token | everything before it).
 *
 * <p>Text is tokenized with the model directory's tokenizer.json: the prompt with the tokenizer's
 * special tokens (a BOS where the tokenizer adds one), the completion without, separately (as TRL
 * does), so that the completion's tokens are exactly the ones scored.
 */
public final class LogprobsJsonl {
    private LogprobsJsonl() {}

    /** Scores {@code in} with the model in {@code modelDir}, writes {@code out} (atomically); returns the line count. */
    public static int run(Path modelDir, Path in, Path out, int batchSize, float temperature) throws IOException {
        CausalLM model = CausalLM.load(modelDir);
        Tokenizer tok = null;
        try {
            ObjectMapper om = new ObjectMapper();
            List<ObjectNode> rows = new ArrayList<>();
            List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
            int lineNo = 0;
            try (BufferedReader r = Files.newBufferedReader(in, StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    lineNo++;
                    if (line.isBlank()) continue;
                    JsonNode node;
                    try {
                        node = om.readTree(line);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IOException(in + ": line " + lineNo + ": not valid JSON: " + e.getOriginalMessage());
                    }
                    if (!(node instanceof ObjectNode obj)) throw new IOException(in + ": line " + lineNo + ": expected a JSON object");
                    int[] p, c;
                    if (obj.has("prompt_ids") || obj.has("completion_ids")) {
                        p = ids(obj, "prompt_ids", in, lineNo);
                        c = ids(obj, "completion_ids", in, lineNo);
                    } else if (obj.has("prompt") || obj.has("completion")) {
                        if (tok == null) {
                            if (!Files.exists(modelDir.resolve("tokenizer.json")))
                                throw new IOException(in + ": line " + lineNo + ": text input needs " + modelDir.resolve("tokenizer.json")
                                        + " (or give prompt_ids/completion_ids)");
                            tok = HfTokenizer.load(modelDir);
                        }
                        p = tok.encode(text(obj, "prompt", in, lineNo), true);
                        c = tok.encode(text(obj, "completion", in, lineNo), false);
                    } else {
                        throw new IOException(in + ": line " + lineNo
                                + ": expected keys prompt_ids + completion_ids, or prompt + completion; got " + fieldNames(obj));
                    }
                    if (p.length == 0) throw new IOException(in + ": line " + lineNo + ": the prompt has no tokens (the first completion token needs a context)");
                    int V = model.config().vocabSize();
                    for (int[] a : new int[][] {p, c}) {
                        for (int t : a) {
                            if (t < 0 || t >= V) throw new IOException(in + ": line " + lineNo + ": token id " + t + " is outside the model's vocabulary [0, " + V + ")");
                        }
                    }
                    if (p.length + c.length > model.config().maxPositions())
                        throw new IOException(in + ": line " + lineNo + ": " + (p.length + c.length) + " tokens exceed max_position_embeddings "
                                + model.config().maxPositions());
                    rows.add(obj);
                    prompts.add(p);
                    completions.add(c);
                }
            } catch (CharacterCodingException e) {
                throw new IOException(in + ": line " + (lineNo + 1) + ": not valid UTF-8 text");
            }
            List<Scorer.Scores> scores = Scorer.score(model, prompts, completions, temperature, false, batchSize);
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (int i = 0; i < rows.size(); i++) {
                    ObjectNode o = rows.get(i);
                    ArrayNode lp = o.putArray("logprobs");
                    for (float f : scores.get(i).logprobs()) lp.add(f);
                    w.write(om.writeValueAsString(o));
                    w.write('\n');
                }
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return rows.size();
        } finally {
            if (tok != null) tok.close();
        }
    }

    private static List<String> fieldNames(ObjectNode o) {
        List<String> l = new ArrayList<>();
        o.fieldNames().forEachRemaining(l::add);
        return l;
    }

    private static int[] ids(ObjectNode o, String key, Path in, int line) throws IOException {
        JsonNode a = o.get(key);
        if (a == null || !a.isArray()) throw new IOException(in + ": line " + line + ": '" + key + "' must be a list of token ids");
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            JsonNode x = a.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToInt())
                throw new IOException(in + ": line " + line + ": '" + key + "'[" + i + "] is not an integer: " + x);
            r[i] = x.intValue();
        }
        return r;
    }

    private static String text(ObjectNode o, String key, Path in, int line) throws IOException {
        JsonNode t = o.get(key);
        if (t == null || !t.isTextual()) throw new IOException(in + ": line " + line + ": '" + key + "' must be a string");
        return t.textValue();
    }
}
