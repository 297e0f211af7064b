package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The check that a stage's rollouts fit the model's context, made when the config is validated so
 * a run that cannot finish is refused before any work: the longest prompt of the stage's data after
 * templating and tokenising (left-truncated to {@code max_prompt_length} when that is smaller, as the
 * trainer does) plus {@code max_completion_length} must be at most the model's positions
 * ({@code max_position_embeddings}, a scratch model's {@code max_positions}).
 *
 * <p>The model is the one the stage will start from (its {@code model:}, else the latest earlier
 * model-producing stage's, else the run's). A character tokenizer that is not built yet (it is built
 * from the data on the first run) is counted as one token per character plus BOS, which is what it
 * produces at most.
 */
public final class ContextBudget {
    private ContextBudget() {}

    /** Throws a {@link ConfigException} naming the numbers when the stage's budget exceeds the context. */
    public static void check(RunContext ctx, StageSpec s, int maxPromptLength, int maxCompletionLength) {
        if (s.data() == null) return;
        RunConfig.ModelSpec spec = modelOf(ctx, index(s));
        if (spec == null || spec.fromStage() != null) return;   // no model: reported by the stage's own checks
        int context;
        Tokenizer tok;
        try {
            if (spec.path() != null) {
                Path dir = ctx.resolve(spec.path());
                if (!Files.isRegularFile(dir.resolve("config.json"))) return;   // reported where the model is loaded
                context = HfModelConfig.read(dir.resolve("config.json")).maxPositionEmbeddings();
                if (!hasTokenizer(dir)) {   // reported where the tokenizer is loaded; the completion alone must still fit
                    if (maxCompletionLength + 1 > context) {
                        throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": stage '" + s.name() + "': max_completion_length "
                                + maxCompletionLength + " plus a prompt of at least 1 token is more than the model's context of " + context + " positions");
                    }
                    return;
                }
                tok = HfTokenizer.load(dir);
            } else {
                context = spec.scratch().maxPositions();
                tok = scratchTokenizer(ctx);
            }
        } catch (IOException e) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": stage '" + s.name() + "': cannot read its model or tokenizer to "
                    + "check the context: " + e.getMessage(), e);
        }
        PromptTemplate template = ctx.template(s);
        Dataset data = ctx.data().peek(s.data());
        int longest = 0;
        String longestId = null;
        try {
            for (Example e : data) {
                String text = template.render(e);
                int n = tok == null ? text.codePointCount(0, text.length()) + 1 : tok.encode(text, true).length;
                if (n > longest) {
                    longest = n;
                    longestId = e.id();
                }
            }
        } finally {
            if (tok != null) tok.close();
        }
        int prompt = Math.min(longest, maxPromptLength);
        if ((long) prompt + maxCompletionLength > context) {
            String promptText = prompt < longest
                    ? "max_prompt_length " + maxPromptLength + " tokens (the longest prompt of data set '" + s.data() + "', example '" + longestId
                            + "', has " + longest + ")"
                    : "the longest prompt of data set '" + s.data() + "' (example '" + longestId + "'), " + longest + " tokens after templating"
                            + (tok == null ? " (counted as characters + BOS: the character tokenizer is not built yet)" : "");
            throw new ConfigException(String.format(Locale.ROOT, "%s: stage '%s': %s plus max_completion_length %d is %d tokens, more than "
                            + "the model's context of %d positions; lower max_completion_length to at most %d or max_prompt_length",
                    ctx.loaded().locate(s.pointer()), s.name(), promptText, maxCompletionLength, prompt + maxCompletionLength, context,
                    Math.max(0, context - prompt)));
        }
    }

    /** The model stage {@code index} starts from (a path or scratch spec), following from_stage and earlier stages. */
    private static RunConfig.ModelSpec modelOf(RunContext ctx, int index) {
        List<ObjectNode> all = ctx.config().stages();
        if (index < 0 || index >= all.size()) return ctx.config().model();
        ObjectNode node = all.get(index);
        if (node.hasNonNull("model")) {
            RunConfig.ModelSpec m = ctx.loaded().bindAt("/stages/" + index + "/model", node.get("model"), RunConfig.ModelSpec.class);
            if (m.fromStage() == null) return m;
            for (int j = 0; j < index; j++) if (m.fromStage().equals(name(all.get(j)))) return modelOf(ctx, j);
            return m;
        }
        for (int j = index - 1; j >= 0; j--) {
            if (Pipeline.producesModel(all.get(j).path("type").asText())) return modelOf(ctx, j);
        }
        return ctx.config().model();
    }

    /** The run's tokenizer for a scratch model; null for a character tokenizer not built yet. */
    private static Tokenizer scratchTokenizer(RunContext ctx) throws IOException {
        RunConfig.TokenizerSpec spec = ctx.config().tokenizer();
        if (spec == null) return null;
        Path dir = spec.path() != null ? ctx.resolve(spec.path()) : ctx.dir().tokenizerDir();
        return Files.isRegularFile(dir.resolve("tokenizer.json")) ? HfTokenizer.load(dir) : null;
    }

    private static boolean hasTokenizer(Path dir) {
        return Files.isRegularFile(dir.resolve("tokenizer.json")) || Files.isRegularFile(dir.resolve("vocab.json"));
    }

    private static String name(ObjectNode n) {
        return n.hasNonNull("name") ? n.get("name").asText() : n.path("type").asText().toLowerCase(Locale.ROOT);
    }

    private static int index(StageSpec s) {
        return s.pointer().startsWith("/stages/") ? Integer.parseInt(s.pointer().substring("/stages/".length())) : -1;
    }
}
