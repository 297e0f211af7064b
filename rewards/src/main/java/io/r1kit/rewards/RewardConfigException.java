package io.r1kit.rewards;

/** A reward configuration is wrong (unknown name, bad param, class that cannot load, ...). */
public class RewardConfigException extends RuntimeException {
    public RewardConfigException(String message) {
        super(message);
    }

    public RewardConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
