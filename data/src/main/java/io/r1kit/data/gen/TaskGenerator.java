package io.r1kit.data.gen;

import io.r1kit.data.Example;
import java.util.List;
import java.util.Map;

/**
 * A deterministic generator of task instances. {@link #generate(long)} is a pure function of the
 * generator's seed, its params and the index, so generating is streaming and reproducible.
 * Every record has at least {@code id}, {@code prompt}, {@code answer} and {@code default_rewards}.
 */
public interface TaskGenerator {
    String name();

    /** Names of the rewards this task is meant to be trained with (e.g. countdown, format). */
    List<String> defaultRewards();

    /** The record for one index, as an insertion-ordered map (its JSON key order). */
    Map<String, Object> generate(long index);

    /** The record for one index as an {@link Example}, for trainers that generate prompts on the fly. */
    default Example example(long index) {
        Map<String, Object> m = generate(index);
        return new Example(String.valueOf(m.get("id")), m);
    }
}
