package io.r1kit.grpo.rejection;

import static io.r1kit.grpo.config.ConfigRecords.or;
import static io.r1kit.grpo.config.ConfigRecords.require;

import io.r1kit.grpo.config.Doc;
import io.r1kit.grpo.config.ConfigRecords;
import io.r1kit.model.generate.SamplingParams;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Options of the {@code rejection_sampling}, {@code cold_start} and distillation data stages (one
 * code path: sample, judge, filter, dedup, cap, write). snake_case in YAML; null takes the default.
 */
public record RejectionConfig(
        @Doc("completions sampled per prompt (N).")
        Integer samplesPerPrompt,
        @Doc("sampling temperature (0.6 is R1's recommended sampling temperature).")
        Double temperature,
        @Doc("nucleus sampling.")
        Double topP,
        @Doc("tokens per completion at most.")
        Integer maxNewTokens,
        @Doc("sampling seed (chunk k uses seed + its first prompt index).")
        Long seed,
        @Doc("prompts per generation call; also the resume granularity for sampling (a resumed run regenerates the chunk it stopped in and skips the prompts already written).")
        Integer promptBatchSize,
        @Doc("`rules` (a CompositeReward: accuracy ≥ threshold), `generative` (a judge model compares with the reference) or `none` (accept all; filters still apply).")
        JudgeKind judge,
        @Doc("label of the accuracy reward in the reward config.")
        String accuracyReward,
        @Doc("the accuracy reward must be ≥ this.")
        Double correctThreshold,
        @Doc("also require the format reward ≥ 1 (cold start: well-formatted).")
        Boolean requireFormat,
        @Doc("label of the format reward.")
        String formatReward,
        @Doc(value = "generative judge prompt; must contain {question}, {reference} and {prediction}.", unset = "`GenerativeJudge.DEFAULT_TEMPLATE`")
        String judgeTemplate,
        @Doc("tokens of the judge's verdict (greedy).")
        Integer judgeMaxNewTokens,
        @Doc("the example's prompt column (judge question, code filter, SFT `prompt`).")
        String promptColumn,
        @Doc("the reference answer for the generative judge.")
        String referenceColumn,
        @Doc("mixed_language filter: reject when language_consistency < this (0 = off).")
        Double languageThreshold,
        @Doc(value = "the target language of the chain of thought (en, ru, zh, …).", unset = "the example's `language_column`")
        String language,
        @Doc("column naming the target language when `language` is null.")
        String languageColumn,
        @Doc("long_paragraph filter: max characters per paragraph (0 = off).")
        Integer maxParagraphChars,
        @Doc("code_block filter on.")
        Boolean filterCodeBlocks,
        @Doc("regex (find) that marks a prompt as about code, so fences are allowed.")
        String codePromptPattern,
        @Doc("reject completions that hit max_new_tokens (reason truncated).")
        Boolean dropTruncated,
        @Doc("drop a completion whose normalised text (lower case, collapsed whitespace) equals an accepted one of the same prompt text (reason duplicate).")
        Boolean dedup,
        @Doc("accepted completions kept per prompt at most, in sample order (0 = no cap; reason over_cap).")
        Integer maxPerPrompt,
        @Doc("for a JSONL source: the column with the candidate completion(s).")
        String completionColumn) {

    public static final String DEFAULT_CODE_PATTERN =
            "(?i)\\b(code|program|programming|python|java|javascript|c\\+\\+|sql|function|script|bash)\\b|```";

    /** {@code judge}: how correctness is decided. */
    public enum JudgeKind {
        RULES, GENERATIVE, NONE;

        @JsonValue
        public String yamlName() { return name().toLowerCase(Locale.ROOT); }

        @JsonCreator
        public static JudgeKind parse(String s) {
            for (JudgeKind k : values()) if (k.name().equalsIgnoreCase(s)) return k;
            throw new IllegalArgumentException("judge: '" + s + "' is not one of rules, generative, none");
        }
    }

    public RejectionConfig {
        samplesPerPrompt = or(samplesPerPrompt, 4);
        temperature = or(temperature, 0.6);
        topP = or(topP, 0.95);
        maxNewTokens = or(maxNewTokens, 512);
        seed = or(seed, 0L);
        promptBatchSize = or(promptBatchSize, 8);
        judge = or(judge, JudgeKind.RULES);
        accuracyReward = or(accuracyReward, "accuracy");
        correctThreshold = or(correctThreshold, 1.0);
        requireFormat = or(requireFormat, false);
        formatReward = or(formatReward, "format");
        judgeTemplate = or(judgeTemplate, GenerativeJudge.DEFAULT_TEMPLATE);
        judgeMaxNewTokens = or(judgeMaxNewTokens, 16);
        promptColumn = or(promptColumn, "prompt");
        referenceColumn = or(referenceColumn, "answer");
        languageThreshold = or(languageThreshold, 0.95);
        languageColumn = or(languageColumn, "language");
        maxParagraphChars = or(maxParagraphChars, 2000);
        filterCodeBlocks = or(filterCodeBlocks, true);
        codePromptPattern = or(codePromptPattern, DEFAULT_CODE_PATTERN);
        dropTruncated = or(dropTruncated, true);
        dedup = or(dedup, true);
        maxPerPrompt = or(maxPerPrompt, 4);
        completionColumn = or(completionColumn, "completion");
        require(samplesPerPrompt >= 1, "samples_per_prompt must be ≥ 1, got " + samplesPerPrompt);
        require(temperature >= 0, "temperature must be ≥ 0, got " + temperature);
        require(topP > 0 && topP <= 1, "top_p must be in (0, 1], got " + topP);
        require(maxNewTokens >= 1, "max_new_tokens must be ≥ 1, got " + maxNewTokens);
        require(promptBatchSize >= 1, "prompt_batch_size must be ≥ 1, got " + promptBatchSize);
        require(judgeMaxNewTokens >= 1, "judge_max_new_tokens must be ≥ 1, got " + judgeMaxNewTokens);
        require(languageThreshold >= 0 && languageThreshold <= 1, "language_threshold must be in [0, 1], got " + languageThreshold);
        require(maxParagraphChars >= 0, "max_paragraph_chars must be ≥ 0 (0 = off), got " + maxParagraphChars);
        require(maxPerPrompt >= 0, "max_per_prompt must be ≥ 0 (0 = no cap), got " + maxPerPrompt);
        try {
            Pattern.compile(codePromptPattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("code_prompt_pattern is not a valid regex: " + e.getDescription());
        }
    }

    /** The sampling parameters of this config (temperature 0 = greedy). */
    public SamplingParams samplingParams() {
        if (temperature == 0) return SamplingParams.greedy(maxNewTokens).withSeed(seed);
        return SamplingParams.sample(temperature.floatValue(), maxNewTokens, seed).withTopP(topP.floatValue());
    }

    public static RejectionConfig defaults() {
        return of(Map.of());
    }

    /** Binds snake_case keys; unknown keys fail. */
    public static RejectionConfig of(Map<String, ?> snakeCaseValues) {
        return ConfigRecords.bind(snakeCaseValues, RejectionConfig.class, "rejection_sampling config");
    }

    /** This config with some keys replaced (snake_case). */
    public RejectionConfig with(Map<String, ?> snakeCaseOverrides) {
        return ConfigRecords.with(this, snakeCaseOverrides, "rejection_sampling config");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return ConfigRecords.toMap(this);
    }
}
