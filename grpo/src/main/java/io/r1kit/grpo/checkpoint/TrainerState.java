package io.r1kit.grpo.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Map;

/**
 * The scalar part of a trainer checkpoint ({@code trainer_state.json}); the optimizer moments are
 * in {@code optimizer.safetensors} beside it.
 *
 * <p>RNG: every random draw of step s (rollout sampling, dynamic-sampling re-draws) comes from
 * generators seeded with {@code Seeds.step(seed, s)}, and the prompt order of epoch e is a shuffle
 * seeded with {@code seed + e}; so {@code seed}, {@code step} and {@code consumed_prompts} are the
 * complete RNG and data state, and a resumed run draws exactly what the uninterrupted run would have.
 *
 * @param step                  steps completed
 * @param optimizerUpdates      optimizer updates completed (the LR schedule's position)
 * @param consumedPrompts       prompts taken from the (epoch-shuffled) train set so far: the data position
 * @param seed                  the run's seed
 * @param rngScheme             how per-step generators are derived (checked on resume)
 * @param nonFiniteStreak       consecutive steps with NaN/Inf so far
 * @param nonFiniteSteps        steps skipped for NaN/Inf so far
 * @param numTokens             prompt + completion tokens processed so far (the {@code num_tokens} metric)
 * @param optimizerScalars      AdamW scalars ({@code <param>.step}, {@code lr})
 * @param config                the trainer config, snake_case (for a mismatch warning on resume)
 * @param extra                 trainer-specific numbers (PPO: value-model optimizer scalars)
 */
public record TrainerState(long step, long optimizerUpdates, long consumedPrompts, long seed, String rngScheme,
                           int nonFiniteStreak, long nonFiniteSteps, long numTokens, Map<String, Double> optimizerScalars,
                           Map<String, Object> config, Map<String, Double> extra) {

    public static final String RNG_SCHEME = "splitmix64(seed, step); epoch order = shuffle(seed + epoch)";

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();

    public TrainerState {
        optimizerScalars = optimizerScalars == null ? Map.of() : Map.copyOf(optimizerScalars);
        config = config == null ? Map.of() : config;
        extra = extra == null ? Map.of() : Map.copyOf(extra);
    }

    public JsonNode toJson() {
        return MAPPER.valueToTree(this);
    }

    public static TrainerState fromJson(JsonNode n, String where) {
        try {
            return MAPPER.treeToValue(n, TrainerState.class);
        } catch (Exception e) {
            throw new IllegalStateException("cannot read trainer state " + where + ": " + e.getMessage(), e);
        }
    }
}
