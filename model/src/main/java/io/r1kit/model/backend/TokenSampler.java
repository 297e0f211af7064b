package io.r1kit.model.backend;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The sampling kernel: draws one token from one row of logits and reports its log-probability,
 * given the sampling settings as primitives. Holds O(V) scratch, reused across calls: one per
 * thread. Temperature 0 is greedy (argmax, lowest id on ties, the RAW log-prob); topK 0 (or ≥ V),
 * topP 1 and minP 0 switch those filters off. The log-prob mode is 0 processed (the distribution
 * the token was drawn from), 1 temperature (softmax(logits / T), no truncation) or 2 raw
 * (softmax(logits)), the ordinals of {@code generate.LogprobMode}.
 *
 * <p>Math (all exponentials relative to the row max m of z = logits / T, sums in double):
 * e_i = exp(z_i - m); survivors S ⊆ V after top-k (z_i ≥ k-th largest z), top-p (descending
 * order, keep while the mass strictly before the token is &lt; topP·Σ_S e) and min-p
 * (e_i ≥ minP, i.e. p_i ≥ minP·p_max); the token is drawn with probability e_i / Σ_S e.
 *
 * <p>CPU generation ({@code generate.Sampler}) and the emulated device's sampling both run this
 * class, so the emulated device picks exactly the CPU path's tokens. Draws exactly one
 * {@code nextDouble()} per non-greedy token and none when greedy.
 */
public final class TokenSampler {
    /** Log-prob modes (the ordinals of {@code generate.LogprobMode}). */
    public static final int PROCESSED = 0, TEMPERATURE = 1, RAW = 2;

    private final int V;
    private final float[] z, e, sel;
    private final int[] keep;
    private long[] keys = new long[256];

    public TokenSampler(int vocab) {
        this.V = vocab;
        this.z = new float[vocab];
        this.e = new float[vocab];
        this.sel = new float[vocab];
        this.keep = new int[vocab];
    }

    /** Samples from logits[off, off+V); writes the token's log-prob to lp[lpIdx]; returns the token. */
    public int sample(float[] logits, int off, float temperature, int topK, float topP, float minP, int logprobMode,
                      RandomGenerator rng, float[] lp, int lpIdx) {
        if (logprobMode < PROCESSED || logprobMode > RAW)
            throw new IllegalArgumentException("sample: logprobMode must be 0, 1 or 2, got " + logprobMode);
        if (temperature == 0f) {
            int best = 0;
            float bv = logits[off];
            for (int i = 1; i < V; i++) if (logits[off + i] > bv) { bv = logits[off + i]; best = i; }
            lp[lpIdx] = (float) (bv - logSumExp(logits, off));
            return best;
        }
        float invT = 1f / temperature;
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) {
            z[i] = logits[off + i] * invT;
            if (z[i] > m) m = z[i];
        }
        double sumAll = 0;
        for (int i = 0; i < V; i++) {
            e[i] = (float) Math.exp(z[i] - m);
            sumAll += e[i];
        }
        // survivors: keep[0..n), ascending ids (or, after top-p, in descending probability)
        int n;
        if (topK > 0 && topK < V) {
            System.arraycopy(z, 0, sel, 0, V);
            float thr = kthLargest(sel, V, topK);
            n = 0;
            for (int i = 0; i < V; i++) if (z[i] >= thr) keep[n++] = i;
        } else {
            n = V;
            for (int i = 0; i < V; i++) keep[i] = i;
        }
        if (topP < 1f) n = nucleus(n, topP);
        if (minP > 0f) {
            int w = 0;
            for (int j = 0; j < n; j++) if (e[keep[j]] >= minP) keep[w++] = keep[j];
            n = w;   // the argmax has e = 1 >= minP, so n >= 1
        }
        double sum = 0;
        for (int j = 0; j < n; j++) sum += e[keep[j]];
        double u = rng.nextDouble() * sum, c = 0;
        int tok = keep[n - 1];
        for (int j = 0; j < n; j++) {
            c += e[keep[j]];
            if (c > u) { tok = keep[j]; break; }
        }
        lp[lpIdx] = switch (logprobMode) {
            case PROCESSED -> (float) ((z[tok] - m) - Math.log(sum));
            case TEMPERATURE -> (float) ((z[tok] - m) - Math.log(sumAll));
            default -> (float) (logits[off + tok] - logSumExp(logits, off));   // RAW
        };
        return tok;
    }

    private double logSumExp(float[] x, int off) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) m = Math.max(m, x[off + i]);
        double s = 0;
        for (int i = 0; i < V; i++) s += Math.exp(x[off + i] - m);
        return m + Math.log(s);
    }

    /**
     * Top-p over keep[0..n): the most likely survivors, in descending order, while the mass before
     * the token is below topP of the survivors' mass. Only tokens with e above a threshold are
     * sorted: if the tokens above it already hold topP of the mass, the nucleus lies among them
     * (every token above the threshold outranks every token below it); else the threshold drops.
     */
    private int nucleus(int n, float topP) {
        double total = 0;
        for (int j = 0; j < n; j++) total += e[keep[j]];
        double target = topP * total;
        float t = 1e-3f;
        int c;
        while (true) {
            c = 0;
            double mass = 0;
            if (keys.length < n) keys = new long[Math.max(n, 2 * keys.length)];
            for (int j = 0; j < n; j++) {
                float ej = e[keep[j]];
                if (ej >= t) {
                    // descending e, then ascending id: e >= 0 so its float bits order like the value
                    keys[c++] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits(ej)) << 32) | keep[j];
                    mass += ej;
                }
            }
            if (mass >= target || t == 0f) break;
            t = t > 1e-30f ? t / 64f : 0f;
        }
        Arrays.sort(keys, 0, c);
        double cum = 0;
        int w = 0;
        for (int j = 0; j < c && cum < target; j++) {
            int id = (int) keys[j];
            keep[w++] = id;
            cum += e[id];
        }
        return Math.max(w, 1);
    }

    /** The k-th largest value of a[0..n) (1-based k); reorders a. Quickselect, O(n) expected. */
    public static float kthLargest(float[] a, int n, int k) {
        int target = n - k;   // index in ascending order
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            float pivot = median3(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    float t = a[i]; a[i] = a[j]; a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return a[target];
        }
        return a[target];
    }

    private static float median3(float a, float b, float c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }
}
