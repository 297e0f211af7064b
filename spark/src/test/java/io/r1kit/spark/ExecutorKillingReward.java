package io.r1kit.spark;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A reward of 0 for everything that, the first time it scores in a JVM other than the driver's,
 * writes that JVM's process id to {@code marker} and halts the JVM: an executor dies in the middle
 * of a task. The marker keeps it to one death per test.
 */
public final class ExecutorKillingReward implements RewardFunction {
    private final long driverPid;
    private final Path marker;

    public ExecutorKillingReward(Map<String, Object> params) {
        this.driverPid = ((Number) params.get("driver_pid")).longValue();
        this.marker = Path.of((String) params.get("marker"));
    }

    @Override
    public String name() {
        return "executor_kill";
    }

    @Override
    public List<Double> score(List<Completion> batch) throws IOException {
        long pid = ProcessHandle.current().pid();
        if (pid != driverPid) {
            try {
                Files.writeString(Files.createFile(marker), Long.toString(pid));
                Runtime.getRuntime().halt(137);
            } catch (FileAlreadyExistsException e) {
                // an executor died already
            }
        }
        return Collections.nCopies(batch.size(), 0.0);
    }
}
