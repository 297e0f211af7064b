package io.r1kit.grpo.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import java.io.IOException;
import java.nio.file.Path;

/** Rewrites a field of a checkpoint's {@code trainer_state.json}, as an older version or another run would have written it. */
public final class CheckpointEdits {
    private CheckpointEdits() {}

    public static void setState(Path checkpoint, String field, String value) throws IOException {
        ObjectNode state = (ObjectNode) CheckpointStore.readState(checkpoint);
        state.put(field, value);
        new ObjectMapper().writeValue(checkpoint.resolve(CheckpointStore.STATE_FILE).toFile(), state);
    }
}
