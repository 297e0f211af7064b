package io.r1kit.grpo.ppo;

/**
 * Generalised advantage estimation (Schulman et al. 2015) over one completion of L tokens, the
 * episode ending after its last token (V after it = 0):
 * <pre>
 *   δ_t = r_t + γ·V_{t+1} − V_t
 *   A_t = δ_t + γλ·A_{t+1}        (A_L = 0)
 *   R_t = A_t + V_t               (the value target)
 * </pre>
 */
public final class Gae {
    private Gae() {}

    /** Advantages and returns, each of length L. */
    public record Result(float[] advantages, float[] returns) {}

    public static Result compute(float[] rewards, float[] values, double gamma, double lambda) {
        int n = rewards.length;
        if (values.length != n) throw new IllegalArgumentException("gae: " + n + " rewards but " + values.length + " values");
        float[] adv = new float[n], ret = new float[n];
        double next = 0, nextValue = 0;
        for (int t = n - 1; t >= 0; t--) {
            double delta = rewards[t] + gamma * nextValue - values[t];
            next = delta + gamma * lambda * next;
            adv[t] = (float) next;
            ret[t] = (float) (next + values[t]);
            nextValue = values[t];
        }
        return new Result(adv, ret);
    }
}
