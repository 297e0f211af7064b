package io.r1kit.grpo.rollout;

import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;

import java.util.List;
import java.util.Map;

/**
 * Where a trainer's rollout step samples and scores its completions: in this JVM
 * ({@link #inProcess}), or on a cluster's executors (the pipeline's cluster engine provides that
 * implementation, so trainers never depend on an engine). A trainer calls {@link #sampleAndScore}
 * where it would call {@link Rollouts#sampleAndScore} with its generator, and {@link #policyUpdated}
 * after each optimizer step, so that a remote implementation can ship the new weights before the next
 * rollouts (or every few steps, logging the staleness).
 */
public interface RolloutGenerator extends AutoCloseable {

    /**
     * {@code n} scored completions of each prompt with the current policy, prompt-major (the contract of
     * {@link Rollouts#sampleAndScore}); {@code nanos}, when not null, receives generation and scoring time.
     *
     * @param step the trainer's step (a remote implementation checks its weights are this step's)
     */
    List<Rollouts.Sample> sampleAndScore(long step, List<Rollouts.Prompt> prompts, int n, SamplingParams params, long[] nanos);

    /** The policy's weights changed at the end of {@code step}; the in-process generator reads them directly. */
    default void policyUpdated(long step) {}

    @Override
    default void close() {}

    /**
     * Metrics of the last {@link #sampleAndScore} call to add to the step's metrics line (a remote
     * implementation's transfer time and bytes); none in-process.
     */
    default Map<String, Object> stepMetrics() {
        return Map.of();
    }

    /** Samples with {@code generator} (which reads the trainer's policy) through {@code rollouts}: what trainers do by default. */
    static RolloutGenerator inProcess(Rollouts rollouts, Generator generator) {
        return (step, prompts, n, params, nanos) -> rollouts.sampleAndScore(generator, prompts, n, params, nanos);
    }

    /**
     * Makes a trainer's rollout generator once its rollouts and generator exist ({@code generator.model()}
     * is the model sampled, whose weights a remote implementation ships).
     */
    @FunctionalInterface
    interface Factory {
        RolloutGenerator create(Rollouts rollouts, Generator generator) throws Exception;

        /** {@link #create}, with a checked failure reported as the {@code trainer}'s ("grpo", "ppo"). */
        default RolloutGenerator open(Rollouts rollouts, Generator generator, String trainer) {
            try {
                return create(rollouts, generator);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(trainer + ": cannot start the rollout generator: " + e.getMessage(), e);
            }
        }

        /** {@link #inProcess}: the default. */
        Factory IN_PROCESS = RolloutGenerator::inProcess;
    }
}
