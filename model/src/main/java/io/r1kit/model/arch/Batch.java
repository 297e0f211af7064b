package io.r1kit.model.arch;

import io.r1kit.model.tensor.Tensor;
import java.util.List;

/**
 * A right-padded batch of prompt+completion sequences for teacher-forced scoring and training.
 * Row b holds {@code prompt_b ++ completion_b} then padding; {@code targets[b·T + t]} is the token
 * at t+1 when that token belongs to the completion, else -1. So the score at column t of row b is
 * the log-prob of completion token {@code t - completionStart(b)}, and completion token j sits at
 * column {@code completionStart(b) + j = promptLength(b) - 1 + j}.
 *
 * @param ids           [B·T] token ids (padding = 0, never attended to: masked and causally after the row)
 * @param B             rows
 * @param T             columns (longest prompt+completion)
 * @param positions     [B·T] position ids (t; right padding needs no offsets)
 * @param keyMask       [B·T] 1 for real tokens, 0 for padding
 * @param targets       [B·T] next-token targets at completion positions, -1 elsewhere
 * @param promptLengths prompt length per row (≥ 1)
 * @param completionLengths completion length per row
 */
public record Batch(int[] ids, int B, int T, int[] positions, byte[] keyMask, int[] targets,
                    int[] promptLengths, int[] completionLengths) {

    public Batch {
        int n = B * T;
        if (ids.length != n || positions.length != n || keyMask.length != n || targets.length != n)
            throw new IllegalArgumentException("Batch: ids/positions/keyMask/targets must all have B*T = " + n + " entries");
        if (promptLengths.length != B || completionLengths.length != B)
            throw new IllegalArgumentException("Batch: promptLengths and completionLengths need one entry per row (" + B + ")");
    }

    /** Builds the batch of {@code prompts[i] ++ completions[i]}. Every prompt needs at least one token. */
    public static Batch of(List<int[]> prompts, List<int[]> completions) {
        if (prompts.size() != completions.size())
            throw new IllegalArgumentException("Batch.of: " + prompts.size() + " prompts but " + completions.size() + " completions");
        int B = prompts.size(), T = 1;
        if (B == 0) throw new IllegalArgumentException("Batch.of: empty batch");
        for (int i = 0; i < B; i++) {
            if (prompts.get(i).length == 0)
                throw new IllegalArgumentException("Batch.of: prompt " + i + " is empty (the first completion token needs a context)");
            T = Math.max(T, prompts.get(i).length + completions.get(i).length);
        }
        int[] ids = new int[B * T], pos = new int[B * T], tg = new int[B * T], pl = new int[B], cl = new int[B];
        byte[] mask = new byte[B * T];
        java.util.Arrays.fill(tg, -1);
        for (int b = 0; b < B; b++) {
            int[] p = prompts.get(b), c = completions.get(b);
            pl[b] = p.length;
            cl[b] = c.length;
            int L = p.length + c.length;
            for (int t = 0; t < T; t++) pos[b * T + t] = t;
            for (int t = 0; t < L; t++) {
                ids[b * T + t] = t < p.length ? p[t] : c[t - p.length];
                mask[b * T + t] = 1;
            }
            for (int j = 0; j < c.length; j++) tg[b * T + p.length - 1 + j] = c[j];
        }
        return new Batch(ids, B, T, pos, mask, tg, pl, cl);
    }

    /** Column of row b's first completion-token score. */
    public int completionStart(int b) {
        return promptLengths[b] - 1;
    }

    /** [B, T] float mask: 1 where the target is a completion token (use with F.maskedMean/maskedSum). */
    public Tensor completionMask() {
        float[] m = new float[B * T];
        for (int i = 0; i < m.length; i++) m[i] = targets[i] >= 0 ? 1f : 0f;
        return Tensor.wrap(m, B, T);
    }

    /**
     * The inverse of {@link #completionValues}: per-row completion values (e.g. old-policy or
     * reference log-probs from {@code Scorer}, one per completion token) placed at their columns of a
     * [B, T] tensor, 0 elsewhere, ready to combine with {@link TokenScores#logprobs()}.
     */
    public Tensor completionTensor(List<float[]> perRow) {
        if (perRow.size() != B) throw new IllegalArgumentException("completionTensor: " + perRow.size() + " rows, batch has " + B);
        float[] out = new float[B * T];
        for (int b = 0; b < B; b++) {
            float[] v = perRow.get(b);
            if (v.length != completionLengths[b])
                throw new IllegalArgumentException("completionTensor: row " + b + " has " + v.length + " values for "
                        + completionLengths[b] + " completion tokens");
            System.arraycopy(v, 0, out, b * T + completionStart(b), v.length);
        }
        return Tensor.wrap(out, B, T);
    }

    /** Row b's completion scores out of a [B, T] score tensor (e.g. {@link TokenScores#logprobs()}). */
    public float[] completionValues(Tensor scores, int b) {
        float[] d = scores.data();
        int s = b * T + completionStart(b);
        return java.util.Arrays.copyOfRange(d, s, s + completionLengths[b]);
    }
}
