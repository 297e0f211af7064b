package io.r1kit.rewards;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's examples/rewards folder from the module or root directory. */
final class ExamplesDir {
    private ExamplesDir() { }

    static Path find() {
        for (String p : new String[] {"../examples/rewards", "examples/rewards"}) {
            Path d = Path.of(p);
            if (Files.isDirectory(d)) return d.toAbsolutePath().normalize();
        }
        throw new IllegalStateException("examples/rewards not found from " + Path.of("").toAbsolutePath());
    }
}
