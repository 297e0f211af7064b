package io.r1kit.pipeline.config;

import java.util.Collection;
import java.util.Optional;

/** Suggests the closest known name for a misspelt one ("betta" → "beta"). */
public final class DidYouMean {
    private DidYouMean() {}

    /**
     * The known name nearest to {@code unknown} by edit distance, if it is near enough to be a
     * plausible typo: at most a third of the longer name's length, and at least 1.
     */
    public static Optional<String> suggest(String unknown, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(unknown.toLowerCase(), k.toLowerCase());
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        if (best == null) return Optional.empty();
        int limit = Math.max(1, Math.max(unknown.length(), best.length()) / 3);
        return bestDistance <= limit ? Optional.of(best) : Optional.empty();
    }

    /** Damerau–Levenshtein distance (optimal string alignment), so a swapped pair costs 1. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) d[i][0] = i;
        for (int j = 0; j <= b.length(); j++) d[0][j] = j;
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
