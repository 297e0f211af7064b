package io.r1kit.pipeline.docs;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.r1kit.grpo.GrpoConfig;
import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.ppo.PpoConfig;
import io.r1kit.grpo.rejection.ColdStartFormat;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rm.RewardModelConfig;
import io.r1kit.grpo.sft.SftConfig;
import io.r1kit.pipeline.config.ClusterConfig;
import io.r1kit.pipeline.config.LoraSpec;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.run.stages.ColdStartStage;
import io.r1kit.pipeline.run.stages.DistillStage;
import io.r1kit.pipeline.run.stages.EvalStage;
import io.r1kit.pipeline.run.stages.RejectionSamplingStage;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code docs/config.md}, the reference of every YAML option, from the config records
 * themselves: each option's text is the {@link Doc} annotation on its record component, and its
 * default is read from the record constructed with every component absent (null), the way the
 * YAML binder constructs it. So the page cannot disagree with the code; {@code ConfigReferenceTest}
 * fails when the committed page is stale or an option has no {@code Doc}.
 */
public final class ConfigReference {

    /**
     * One table of the page: a config record and where its keys sit in the YAML. {@code required}: the
     * smallest YAML mapping the record accepts (its required keys), from which its defaults are read.
     */
    public record Section(String anchor, String title, String intro, Class<?> record, Map<String, ?> required) {
        Section(String anchor, String title, String intro, Class<?> record) {
            this(anchor, title, intro, record, Map.of());
        }
    }

    private ConfigReference() {}

    /** The records of the page, in page order. */
    public static List<Section> sections() {
        Class<?> stageEval = componentType(ColdStartStage.Options.class, "eval");
        return List.of(
                new Section("run", "Run file (top level)",
                        "The keys of a run's YAML file (`bin/r1kit run FILE`). `--set a.b=VALUE` overrides any of them.",
                        RunConfig.class, Map.of("name", "NAME", "stages", List.of(Map.of("type", "eval")))),
                new Section("scratch", "`model: {scratch: ...}`",
                        "A model created from scratch (random init): the sizes of a Llama-style decoder.",
                        RunConfig.ScratchModel.class),
                new Section("char-tokenizer", "`tokenizer: {char: ...}`",
                        "The built-in character tokenizer, with `<think>`, `</think>`, `<answer>`, `</answer>` as single tokens.",
                        RunConfig.CharSpec.class),
                new Section("cluster", "`cluster:`",
                        "Runs the sampling and scoring of `rejection_sampling`, `cold_start` and `distill` stages and of evaluations on a "
                                + "cluster (Apache Spark); the files are the in-process run's, byte for byte. Without it nothing of Spark is loaded. "
                                + "See [cluster.md](cluster.md).",
                        ClusterConfig.class, Map.of("engine", "spark")),
                new Section("grpo", "`type: grpo`",
                        "GRPO (R1-Zero's RL, and all-scenario RL over a `mix:` set). Names follow TRL's `GRPOConfig`. "
                                + "See [grpo.md](grpo.md) for the loss, the advantages and the metrics.",
                        GrpoConfig.class),
                new Section("ppo", "`type: ppo`",
                        "The PPO baseline (TRL `PPOConfig` names). See [grpo.md](grpo.md#ppo-baseline).",
                        PpoConfig.class),
                new Section("lora", "`lora:` (sft, pretrain, grpo and ppo stages)",
                        "LoRA adapters (PEFT's `LoraConfig` names and defaults) trained over the stage's frozen starting model: no "
                                + "gradient and no optimizer state for its weights; rollouts decode with the adapters merged into the weights; "
                                + "the KL reference is the frozen base itself. Checkpoints and the final model are adapter directories in "
                                + "PEFT's layout; a later stage loads one as its base with the adapters merged in, and `bin/r1kit merge` "
                                + "writes the full model. `lora: {}` takes every default. See [lora.md](lora.md).",
                        LoraSpec.class),
                new Section("sft", "`type: sft` and `type: pretrain`",
                        "Supervised fine-tuning and pretraining (TRL `SFTConfig` names). A `pretrain` stage trains on every token of a "
                                + "`text` column (`completion_only_loss` is always false there) and packs documents unless "
                                + "`packing` is set. The stage's `seed` defaults to the run's. See [sft.md](sft.md).",
                        SftConfig.class),
                new Section("eval", "`type: eval`",
                        "Evaluates the previous stage's model on `data` (or `eval_data`).",
                        EvalStage.Options.class),
                new Section("reward-model", "`type: reward_model`",
                        "A Bradley–Terry reward model (TRL `RewardConfig` names); in a run, `template` defaults to the stage's or "
                                + "the run's template, so the reward model scores prompts as the policy sees them. See [r1-stages.md](r1-stages.md#reward_model).",
                        RewardModelConfig.class),
                new Section("cold-start", "`type: cold_start`",
                        "R1 stage 1: sample R1-Zero, keep readable answers, rewrite them, SFT the base model. "
                                + "See [r1-stages.md](r1-stages.md#cold_start--r1-stage-1).",
                        ColdStartStage.Options.class),
                new Section("rejection-sampling", "`type: rejection_sampling`",
                        "R1 stage 3: sample, judge, filter, mix with non-reasoning data and SFT the base model. "
                                + "See [r1-stages.md](r1-stages.md#rejection_sampling--r1-stage-3).",
                        RejectionSamplingStage.Options.class),
                new Section("distill", "`type: distill`",
                        "A teacher writes chains of thought; a student is trained on them by SFT.",
                        DistillStage.Options.class),
                new Section("sampling", "`sampling:` (cold_start, rejection_sampling, distill)",
                        "Sampling, judging and filtering candidates.",
                        RejectionConfig.class),
                new Section("stage-eval", "`eval:` (cold_start, rejection_sampling, distill)",
                        "The evaluation these stages end with, written to `eval/<stage>.json`.",
                        stageEval),
                new Section("format", "`format:` (cold_start)",
                        "R1's readable cold-start format, `reasoning_open + reasoning + reasoning_close + summary_template`.",
                        ColdStartFormat.class));
    }

    /** The whole page. */
    public static String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Config reference\n\n");
        b.append("<!-- Generated by `bin/r1kit docs config` from the config records (their `@Doc` annotations and defaults). "
                + "Do not edit by hand. -->\n\n");
        b.append("Every key of a run file, by where it sits. YAML keys are snake_case. An absent key takes the default shown; "
                + "an unknown key, a wrong type or a bad value stops `validate`/`run` before any work, naming the file, line, "
                + "key and what is allowed. How a pipeline is written: [pipeline.md](pipeline.md).\n\n");
        b.append("Every stage also has `name` (default: its type), `type`, and optionally `model` (same forms as the run's; "
                + "default: the previous stage's final model), `data` and `eval_data` (data set names), `rewards` (overrides "
                + "the run's list), and for `grpo`/`eval` stages `template`/`think_prefill`. All other keys of a stage are "
                + "the options of its type, below. In a run, a stage's `seed` defaults to the run's `seed`; the "
                + "defaults below are otherwise the trainers' own (the same from Java).\n\n");
        for (Section s : sections()) b.append("- [").append(s.title()).append("](#").append(s.anchor()).append(")\n");
        for (Section s : sections()) {
            b.append("\n<a id=\"").append(s.anchor()).append("\"></a>\n## ").append(s.title()).append("\n\n")
                    .append(s.intro()).append("\n\n")
                    .append("| key | default | meaning |\n| --- | --- | --- |\n");
            for (Option o : options(s)) {
                b.append("| `").append(o.key()).append("` | ").append(cell(o.defaultText())).append(" | ")
                        .append(cell(sentence(o.doc(), o.source()))).append(" |\n");
            }
        }
        return b.toString();
    }

    /** One documented option. */
    public record Option(String key, String doc, String source, String defaultText) {}

    /** Every component of the section's record with its key, doc and default; throws naming a component without a {@link Doc}. */
    public static List<Option> options(Section section) {
        Class<?> record = section.record();
        Object defaults = section.required().isEmpty() ? defaultInstance(record)
                : ConfigRecords.MAPPER.convertValue(section.required(), record);
        List<Option> out = new ArrayList<>();
        for (RecordComponent c : record.getRecordComponents()) {
            Doc d = c.getAnnotation(Doc.class);
            String key = yamlKey(c);
            if (d == null || d.value().isBlank()) {
                throw new IllegalStateException(record.getName() + "." + c.getName() + " (`" + key
                        + "`) has no @Doc: every config option needs its documentation on the record component");
            }
            String def;
            if (!d.unset().isEmpty()) {
                def = d.unset();
            } else {
                Object v = defaults == null ? null : value(c, defaults);
                if (v == null) {
                    throw new IllegalStateException(record.getName() + "." + c.getName() + " (`" + key + "`) is null by default: "
                            + "say what an absent value means with @Doc(unset = \"...\")");
                }
                def = format(v);
            }
            out.add(new Option(key, d.value(), d.source(), def));
        }
        return out;
    }

    /** The record built as the YAML binder builds it from an empty mapping, or null when that is refused (required keys). */
    static Object defaultInstance(Class<?> record) {
        RecordComponent[] cs = record.getRecordComponents();
        Class<?>[] types = new Class<?>[cs.length];
        for (int i = 0; i < cs.length; i++) types[i] = cs[i].getType();
        try {
            Constructor<?> k = record.getDeclaredConstructor(types);
            k.setAccessible(true);
            return k.newInstance(new Object[cs.length]);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException) return null;   // a required key
            throw new IllegalStateException(record.getName() + ": default construction failed", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(record.getName() + ": no canonical constructor", e);
        }
    }

    private static Object value(RecordComponent c, Object instance) {
        try {
            Method m = c.getAccessor();
            m.setAccessible(true);
            return m.invoke(instance);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(c.getName(), e);
        }
    }

    static String yamlKey(RecordComponent c) {
        JsonProperty p = c.getAnnotation(JsonProperty.class);
        if (p == null) {
            try {
                p = c.getDeclaringRecord().getDeclaredConstructor(
                        Arrays.stream(c.getDeclaringRecord().getRecordComponents()).map(RecordComponent::getType)
                                .toArray(Class<?>[]::new))
                        .getParameters()[indexOf(c)].getAnnotation(JsonProperty.class);
            } catch (NoSuchMethodException e) {
                p = null;
            }
        }
        if (p != null && !p.value().isEmpty()) return p.value();
        return ((PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE).translate(c.getName());
    }

    private static int indexOf(RecordComponent c) {
        RecordComponent[] all = c.getDeclaringRecord().getRecordComponents();
        for (int i = 0; i < all.length; i++) if (all[i].getName().equals(c.getName())) return i;
        throw new IllegalStateException(c.getName());
    }

    /** A default as YAML would write it: enums by their YAML name, numbers without float noise, nested records by link. */
    static String format(Object v) {
        if (v instanceof Enum<?> e) {
            for (Method m : e.getDeclaringClass().getMethods()) {
                if (m.isAnnotationPresent(JsonValue.class)) {
                    try {
                        return "`" + m.invoke(e) + "`";
                    } catch (ReflectiveOperationException x) {
                        throw new IllegalStateException(x);
                    }
                }
            }
            return "`" + e.name().toLowerCase(Locale.ROOT) + "`";
        }
        if (v instanceof Double d) return "`" + number(d) + "`";
        if (v instanceof Float f) return "`" + number(f.doubleValue()) + "`";
        if (v instanceof Number || v instanceof Boolean) return "`" + v + "`";
        if (v instanceof String s) return s.isEmpty() ? "`\"\"`" : code(s);
        if (v instanceof Collection<?> c) return c.isEmpty() ? "`[]`" : "`" + c + "`";
        if (v instanceof Map<?, ?> m) return m.isEmpty() ? "`{}`" : "`" + m + "`";
        if (v.getClass().isRecord()) {
            for (Section s : sections()) if (s.record() == v.getClass()) return "see [" + s.title() + "](#" + s.anchor() + ")";
        }
        return "`" + v + "`";
    }

    private static String number(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) return BigDecimal.valueOf(d).setScale(1).toPlainString();
        if (Math.abs(d) < 1e-3) {
            String s = String.format(Locale.ROOT, "%.0e", d);
            if (Double.parseDouble(s) == d) return s.replace("e-0", "e-");
        }
        return BigDecimal.valueOf(d).toPlainString();
    }

    /** The doc text as a sentence, with its source in parentheses before the final period. */
    private static String sentence(String doc, String source) {
        String d = doc.strip();
        if (d.endsWith(".")) d = d.substring(0, d.length() - 1);
        return d + (source.isEmpty() ? "" : " (" + source + ")") + ".";
    }

    /** Inline code; content with backticks gets a double-backtick span. */
    private static String code(String s) {
        return s.contains("`") ? "`` " + s + " ``" : "`" + s + "`";
    }

    /** A table cell: pipes escaped. */
    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    private static Class<?> componentType(Class<?> record, String name) {
        for (RecordComponent c : record.getRecordComponents()) if (c.getName().equals(name)) return c.getType();
        throw new IllegalStateException(record.getName() + " has no component " + name);
    }
}
