package io.r1kit.grpo;

import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.tensor.Backends;
import java.nio.file.Path;

/** Child process for {@link KillResumeTest}: trains the toy task in {@code args[0]} with resume on, on the scalar backend. */
public final class ToyTrainMain {
    public static void main(String[] args) {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            ToyTask task = new ToyTask();
            task.trainer(KillResumeTest.CONFIG, task.model(11), Path.of(args[0])).resume(true).build().train();
        }
        System.exit(0);
    }

}
