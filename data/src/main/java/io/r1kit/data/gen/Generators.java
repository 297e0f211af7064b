package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;
import java.util.List;

/** The generators by task name, as {@code r1kit data generate --task} knows them. */
public final class Generators {
    public static final List<String> TASKS = List.of(CountdownGenerator.NAME, ArithmeticGenerator.NAME,
            PretrainCorpusGenerator.NAME, NonReasoningGenerator.NAME, BilingualGenerator.NAME, PreferenceGenerator.NAME);

    private Generators() {}

    /** A generator for {@code task}; unknown params are an error listing the task's params. */
    public static TaskGenerator create(String task, long seed, GeneratorParams params) {
        TaskGenerator g = switch (task) {
            case CountdownGenerator.NAME -> new CountdownGenerator(seed, params);
            case ArithmeticGenerator.NAME -> new ArithmeticGenerator(seed, params);
            case PretrainCorpusGenerator.NAME -> new PretrainCorpusGenerator(seed, params);
            case NonReasoningGenerator.NAME -> new NonReasoningGenerator(seed, params);
            case BilingualGenerator.NAME -> new BilingualGenerator(seed, params);
            case PreferenceGenerator.NAME -> new PreferenceGenerator(seed, params);
            default -> throw new DatasetException("unknown task '" + task + "'; expected one of " + TASKS);
        };
        params.checkAllUsed(task);
        return g;
    }
}
