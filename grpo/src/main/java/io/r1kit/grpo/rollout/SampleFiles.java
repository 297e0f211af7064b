package io.r1kit.grpo.rollout;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * {@code samples/step-N.jsonl}: one JSON line per completion of a step, written atomically (a
 * temporary file moved into place), and dropped past a resumed step so a resumed run writes each
 * step's file exactly once.
 */
public final class SampleFiles {
    private SampleFiles() {}

    public static void write(Path dir, long step, List<ObjectNode> lines) {
        StringBuilder sb = new StringBuilder();
        for (ObjectNode o : lines) sb.append(o).append('\n');
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(".step-" + step + ".jsonl.tmp");
            Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, dir.resolve("step-" + step + ".jsonl"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write samples of step " + step + " to " + dir, e);
        }
    }

    /** Deletes the files of steps after {@code lastStep} and leftover temporaries. */
    public static void dropAfter(Path dir, long lastStep) {
        if (!Files.isDirectory(dir)) return;
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    Files.deleteIfExists(p);
                } else if (name.matches("step-\\d+\\.jsonl") && Long.parseLong(name.substring(5, name.length() - 6)) > lastStep) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean " + dir, e);
        }
    }
}
