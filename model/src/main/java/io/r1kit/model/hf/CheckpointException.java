package io.r1kit.model.hf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file (safetensors, index or config JSON) is malformed or unsupported. The message
 * always names the file and, where one is involved, the tensor or JSON key, and what was expected.
 * It extends {@link IOException} (like {@code java.util.zip.ZipException}) so callers that already
 * handle I/O failures handle bad files too.
 */
public class CheckpointException extends IOException {

    private final Path file;
    private final String item;

    public CheckpointException(Path file, String item, String problem) {
        this(file, item, problem, null);
    }

    public CheckpointException(Path file, String item, String problem, Throwable cause) {
        super(format(file, item, problem), cause);
        this.file = file;
        this.item = item;
    }

    private static String format(Path file, String item, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<no file>" : file.toString());
        if (item != null) sb.append(": '").append(item).append('\'');
        sb.append(": ").append(problem);
        return sb.toString();
    }

    /** The offending file (may be null when the data did not come from a file). */
    public Path file() {
        return file;
    }

    /** The offending tensor name or JSON key, or null when the problem concerns the whole file. */
    public String item() {
        return item;
    }
}
