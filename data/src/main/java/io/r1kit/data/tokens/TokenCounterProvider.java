package io.r1kit.data.tokens;

import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.ToIntFunction;

/**
 * Counts tokens with a model's tokenizer. The data module does not depend on the model module, so the
 * model module registers an implementation through {@link ServiceLoader}
 * ({@code META-INF/services/io.r1kit.data.tokens.TokenCounterProvider}); {@code r1kit data stats --model}
 * and length filters use the first one that accepts the directory.
 */
public interface TokenCounterProvider {
    /** A token counter for the tokenizer in {@code modelDir} (e.g. its {@code tokenizer.json}), or empty. */
    Optional<ToIntFunction<String>> forModel(Path modelDir);

    /** The first registered provider that accepts the directory. */
    static Optional<ToIntFunction<String>> find(Path modelDir) {
        for (TokenCounterProvider p : ServiceLoader.load(TokenCounterProvider.class)) {
            Optional<ToIntFunction<String>> c = p.forModel(modelDir);
            if (c.isPresent()) return c;
        }
        return Optional.empty();
    }
}
