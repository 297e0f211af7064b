package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.DidYouMean;
import io.r1kit.pipeline.config.LoraSpec;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One entry of {@code stages:}. The keys the pipeline itself reads (name, type, model, data,
 * eval_data, rewards, template, think_prefill) are taken out; everything else is bound to the
 * stage type's trainer options, with the same located, did-you-mean error messages as the rest
 * of the file.
 *
 * @param name      unique stage name (also the directory name of its outputs); default = type
 * @param type      stage type
 * @param model     where this stage's starting model comes from (default: the previous stage's
 *                  final model, or the run's {@code model:} for the first stage)
 * @param data      data set name for training (the run's {@code data:} keys)
 * @param evalData  data set name for evaluation
 * @param rewards   reward list overriding the run's
 * @param template  prompt template overriding the run's (grpo, eval)
 * @param thinkPrefill prefill "&lt;think&gt;\n" overriding the run's (grpo, eval)
 * @param options   the remaining keys: the trainer's options
 * @param pointer   where the stage stands in the file ("/stages/3"), for messages
 * @param lora      LoRA adapters to train over the frozen starting model (sft, pretrain, grpo, ppo), or null
 */
public record StageSpec(String name, Type type, RunConfig.ModelSpec model, String data, String evalData,
                        List<JsonNode> rewards, String template, Boolean thinkPrefill, ObjectNode options, String pointer,
                        LoraSpec lora) {

    /** Stage types. Those not yet available are refused at validation with a clear message. */
    public enum Type {
        PRETRAIN, SFT, GRPO, EVAL, PPO, REJECTION_SAMPLING, REWARD_MODEL, DISTILL, COLD_START;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean available() {
            return true;   // every type has a runner (PPO, cold_start, rejection_sampling, reward_model, distill included)
        }
    }

    /** Keys the pipeline reads for every stage type. */
    static final Set<String> COMMON = Set.of("name", "type", "model", "data", "eval_data", "rewards");

    /** Stage types that can train LoRA adapters ({@code lora:}). */
    static final Set<Type> LORA_TYPES = Set.of(Type.SFT, Type.PRETRAIN, Type.GRPO, Type.PPO);

    /** Keys read by the pipeline for stages whose trainer has no template option of its own. */
    static final Set<String> TEMPLATE_KEYS = Set.of("template", "think_prefill");

    public static StageSpec parse(StrictYaml.Loaded<RunConfig> cfg, int index) {
        ObjectNode node = cfg.value().stages().get(index);
        String pointer = "/stages/" + index;
        JsonNode typeNode = node.get("type");
        if (typeNode == null || !typeNode.isTextual()) {
            throw new ConfigException(cfg.locate(pointer) + ": stages[" + index + "] needs a 'type': one of " + typeNames());
        }
        Type type;
        try {
            type = Type.valueOf(typeNode.asText().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            String hint = DidYouMean.suggest(typeNode.asText(), typeNames()).map(s -> " Did you mean '" + s + "'?").orElse("");
            throw new ConfigException(cfg.locate(pointer + "/type") + ": stages[" + index + "].type is '" + typeNode.asText()
                    + "'; allowed: " + String.join(", ", typeNames()) + "." + hint);
        }
        String name = node.hasNonNull("name") ? node.get("name").asText() : type.yamlName();
        if (!name.matches("[A-Za-z0-9._-]+") || name.matches("\\.+")) {
            throw new ConfigException(cfg.locate(pointer + "/name") + ": stage name '" + name
                    + "' may use letters, digits, '.', '_' and '-' only, and not dots alone (it names directories of the run)");
        }
        boolean ownTemplate = type == Type.SFT || type == Type.PRETRAIN;
        ObjectNode options = node.deepCopy();
        for (String k : COMMON) options.remove(k);
        options.remove("lora");
        LoraSpec lora = null;
        if (node.has("lora")) {
            if (!LORA_TYPES.contains(type)) {
                throw new ConfigException(cfg.locate(pointer + "/lora") + ": 'lora' applies to sft, pretrain, grpo and ppo stages, not to "
                        + type.yamlName());
            }
            lora = cfg.bindAt(pointer + "/lora", node.get("lora").isNull() ? StrictYaml.YAML.createObjectNode() : node.get("lora"),
                    LoraSpec.class);
        }
        if (!ownTemplate) for (String k : TEMPLATE_KEYS) options.remove(k);
        RunConfig.ModelSpec model = node.has("model") ? cfg.bindAt(pointer + "/model", node.get("model"), RunConfig.ModelSpec.class) : null;
        List<JsonNode> rewards = null;
        if (node.has("rewards")) {
            if (!node.get("rewards").isArray()) throw new ConfigException(cfg.locate(pointer + "/rewards") + ": 'rewards' must be a list");
            List<JsonNode> list = new java.util.ArrayList<>();
            node.get("rewards").forEach(list::add);
            rewards = List.copyOf(list);
        }
        return new StageSpec(name, type, model, text(node, "data"), text(node, "eval_data"), rewards,
                ownTemplate ? null : text(node, "template"),
                ownTemplate || !node.has("think_prefill") ? null : node.get("think_prefill").asBoolean(),
                options, pointer, lora);
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    static List<String> typeNames() {
        return Arrays.stream(Type.values()).map(Type::yamlName).toList();
    }
}
