package io.r1kit.rewards;

import java.util.Map;

/**
 * Optional extra counters a reward reports per step (e.g. accuracy's parse failures). The
 * composite logs each as {@code rewards/<name>/<counter>} and resets it.
 */
public interface RewardDiagnostics {

    /** Counters since the last call, then reset. */
    Map<String, Long> drainCounters();
}
