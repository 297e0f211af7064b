package io.r1kit.model.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The host-side results of one wave of generation, shared by the CPU and the device decode loops:
 * per row its tokens and log-probs so far and why it finished. Only this small per-step state
 * (one token and one log-prob per live row) is needed on the host to decide stops.
 */
final class WaveRows {
    final int[][] toks;        // [rows][maxNewTokens]
    final float[][] lps;       // [rows][maxNewTokens]
    final int[] len;           // tokens generated per row
    final FinishReason[] reason;
    final Object[] stopWhy;    // the stop id (Integer) or stop string that ended the row
    private final SamplingParams sp;
    private final Set<Integer> stopIds;
    private final Function<int[], String> stopDecoder;

    WaveRows(int rows, SamplingParams sp, Set<Integer> stopIds, Function<int[], String> stopDecoder) {
        this.toks = new int[rows][sp.maxNewTokens()];
        this.lps = new float[rows][sp.maxNewTokens()];
        this.len = new int[rows];
        this.reason = new FinishReason[rows];
        this.stopWhy = new Object[rows];
        this.sp = sp;
        this.stopIds = stopIds;
        this.stopDecoder = stopDecoder;
    }

    /**
     * Counts row r's latest token (already written at toks[r][len[r]]) and returns true when r is
     * finished: a stop id, a stop string, max_new_tokens, or its cache is full ({@code cacheFull}).
     */
    boolean acceptAndFinish(int r, boolean cacheFull) {
        int t = toks[r][len[r]++];
        if (stopIds.contains(t)) {
            reason[r] = FinishReason.STOP;
            stopWhy[r] = t;
        } else if (!sp.stopStrings().isEmpty() && (stopWhy[r] = matchStop(toks[r], len[r], sp.stopStrings())) != null) {
            reason[r] = FinishReason.STOP;
        } else if (len[r] >= sp.maxNewTokens() || cacheFull) {
            reason[r] = FinishReason.LENGTH;
        } else {
            return false;
        }
        return true;
    }

    private String matchStop(int[] toks, int len, List<String> stops) {
        String text = stopDecoder.apply(Arrays.copyOf(toks, len));
        for (String s : stops) if (text.contains(s)) return s;
        return null;
    }

    /** Writes row r (prompt p0 + r / n, sample r % n) to out[(p0 + r/n)·n + r%n]. */
    void writeTo(Completion[] out, int p0, int n, Function<int[], String> textDecoder) {
        for (int r = 0; r < len.length; r++) {
            int[] t = Arrays.copyOf(toks[r], len[r]);
            String text = textDecoder == null ? null : textDecoder.apply(t);
            out[(p0 + r / n) * n + r % n] = new Completion(p0 + r / n, r % n, t, Arrays.copyOf(lps[r], len[r]),
                    reason[r], stopWhy[r], text);
        }
    }
}
