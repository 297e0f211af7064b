package io.r1kit.rewards;

import java.util.List;

/**
 * Scores a batch of completions. The result has one entry per completion, in order; a
 * {@code null} entry means "does not apply" and is left out of the weighted sum (as in TRL).
 *
 * <p>Implementations are found by name through {@link RewardProvider} (ServiceLoader) or by class
 * name from YAML ({@code class: com.acme.MyReward}); such a class needs a public constructor taking
 * {@link RewardParams}, or a {@code Map<String, Object>}, or no arguments. A function may throw or
 * hang: {@link CompositeReward} turns that into nulls for the affected completions, counts it and
 * goes on.
 */
public interface RewardFunction {

    /** Short name used in metrics ({@code rewards/<name>/mean}) and output JSON. */
    String name();

    /** One score per completion (null = not applicable). */
    List<Double> score(List<Completion> batch) throws Exception;
}
