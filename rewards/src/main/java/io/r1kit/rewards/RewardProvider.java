package io.r1kit.rewards;

/**
 * ServiceLoader entry point that makes a reward available by name. Register an implementation in
 * {@code META-INF/services/io.r1kit.rewards.RewardProvider}.
 */
public interface RewardProvider {

    /** Name used in YAML ({@code name: accuracy}) and on the command line ({@code --fn accuracy}). */
    String name();

    /** One line for listings. */
    default String description() {
        return "";
    }

    /** Builds the function; unknown or malformed params must fail with a message naming the key. */
    RewardFunction create(RewardParams params);
}
