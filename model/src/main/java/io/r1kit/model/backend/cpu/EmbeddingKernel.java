package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Token embedding lookup (see {@link io.r1kit.model.backend.Backend#embeddingForward}):
 * out[N, C] = table[ids[n], :]; backward scatter-adds dout rows into dtable.
 *
 * <p>The backward is race-free without locks or per-thread tables: threads split the C
 * COLUMNS, and each walks all N tokens in order over its own column range, so repeated ids
 * accumulate in the same order as the scalar reference (bit-identical results).
 */
public final class EmbeddingKernel {
    private EmbeddingKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static void embeddingForward(float[] out, float[] table, int[] ids, int N, int C) {
        check("embeddingForward", out, "out", table, "table", ids, N, C);
        Parallel.forRange(N, Math.max(1, Elementwise.GRAIN / Math.max(1, C)), (r0, r1) -> {
            for (int n = r0; n < r1; n++) System.arraycopy(table, ids[n] * C, out, n * C, C);
        });
    }

    public static void embeddingForwardReference(float[] out, float[] table, int[] ids, int N, int C) {
        check("embeddingForwardReference", out, "out", table, "table", ids, N, C);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) out[n * C + c] = table[ids[n] * C + c];
        }
    }

    public static void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C) {
        check("embeddingBackward", dout, "dout", dtable, "dtable", ids, N, C);
        // Column ranges in whole vectors (a split never cuts a vector), >= ~GRAIN floats of work each.
        int vecs = (C + S.length() - 1) / S.length();
        long work = (long) N * C;
        int grainVecs = (int) Math.max(1, Math.min(vecs, (long) vecs * Elementwise.GRAIN / Math.max(1, work)));
        Parallel.forRange(vecs, grainVecs, (v0, v1) -> {
            int c0 = v0 * S.length(), c1 = Math.min(C, v1 * S.length());
            int upper = c0 + S.loopBound(c1 - c0);
            for (int n = 0; n < N; n++) {
                int src = n * C, dst = ids[n] * C;
                int c = c0;
                for (; c < upper; c += S.length()) {
                    FloatVector.fromArray(S, dtable, dst + c).add(FloatVector.fromArray(S, dout, src + c))
                            .intoArray(dtable, dst + c);
                }
                for (; c < c1; c++) dtable[dst + c] += dout[src + c];
            }
        });
    }

    public static void embeddingBackwardReference(float[] dtable, float[] dout, int[] ids, int N, int C) {
        check("embeddingBackwardReference", dout, "dout", dtable, "dtable", ids, N, C);
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < C; c++) dtable[ids[n] * C + c] += dout[n * C + c];
        }
    }

    /** Shapes, and every id inside the table (whose row count is table.length / C). */
    private static void check(String op, float[] rows, String rowsName, float[] table, String tableName, int[] ids, int N, int C) {
        KernelChecks.dims(op, "N, C", N, C);
        KernelChecks.fits(op, rowsName, rows, (long) N * C, () -> "[N=" + N + ",C=" + C + "]");
        KernelChecks.fits(op, "ids", ids, N, () -> "[N=" + N + "]");
        if (N == 0 || C == 0) return;
        if (table == null || table.length % C != 0) {
            throw new IllegalArgumentException(op + ": " + tableName + " must be [vocab, C=" + C + "], got length "
                    + (table == null ? "null" : table.length));
        }
        int vocab = table.length / C;
        for (int n = 0; n < N; n++) {
            if (ids[n] < 0 || ids[n] >= vocab) {
                throw new IllegalArgumentException(op + ": ids[" + n + "]=" + ids[n] + " is outside the "
                        + tableName + " rows [0, vocab=" + vocab + ")");
            }
        }
    }
}
