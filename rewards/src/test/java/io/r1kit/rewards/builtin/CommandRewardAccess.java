package io.r1kit.rewards.builtin;

import java.util.Map;
import java.util.Set;

/** Test access to {@link CommandReward}'s package-private environment filter. */
public final class CommandRewardAccess {
    private CommandRewardAccess() {}

    public static Map<String, String> childEnvironment(Map<String, String> parent, Set<String> inherit, Map<String, Object> extra) {
        return CommandReward.childEnvironment(parent, inherit, extra);
    }
}
