package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention (see {@link io.r1kit.model.backend.Backend#attentionForward}).
 * q: [B, Tq, Hq, D], k, v: [B, Tk, Hkv, D], out: [B, Tq, Hq, D], lse: [B, Hq, Tq],
 * keyMask: [B, Tk] (null = all keys real). Query row t sits at key position qStart + t and sees
 * key j iff j <= qStart + t and keyMask[b, j] != 0. A query that sees no key outputs 0, gets
 * lse = -infinity (the log of an empty sum) and receives no gradient.
 */
public final class AttentionKernel {
    private AttentionKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Keys per block: four vectors of scores (64 on AVX-512), so a block's K^T tile is D x 64. */
    private static final int BK = 4 * L;
    /**
     * Queries per forward tile (rows x the group's heads) that share each transposed K block:
     * enough that the scalar transpose (D x BK copies) is small next to their score FMAs.
     */
    private static final int TILE_QUERIES = 64;
    /** Up to this many queries per tile the forward scores keys by direct dot products instead of transposing K. */
    private static final int DIRECT_MAX_QUERIES = 8;

    // =================================================================== fast forward

    /**
     * Flash-style forward. Work items are (batch, kv head, tile of query rows); a tile holds
     * the queries of all Hq/Hkv heads that read this kv head, so each K/V block is loaded
     * (and K transposed) once per tile. For each key block the queries, two at a time,
     * compute their scores against K^T (broadcast q[d] times a row of K^T: four vectors of keys
     * per query, eight independent FMA chains, no horizontal sums), mask them, and fold them
     * into their running max m, denominator l and accumulator acc[D] (the online softmax: acc
     * and l are rescaled by exp(m_old - m_new)); P V is accumulated for both queries with the
     * accumulators in registers. Memory: per-thread scratch only (K^T tile, scores, one
     * accumulator row per query of the tile), never a [Tq, Tk] matrix.
     */
    public static void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        check("attentionForward", q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        KernelChecks.fits("attentionForward", "out", out, (long) B * Tq * Hq * D, () -> qShape(B, Tq, Hq, D));
        KernelChecks.fits("attentionForward", "lse", lse, (long) B * Hq * Tq, () -> "[B=" + B + ",Hq=" + Hq + ",Tq=" + Tq + "]");
        if (B == 0 || Tq == 0 || Hq == 0) return;
        int group = Hq / Hkv;
        int rowsPerTile = Math.max(4, (TILE_QUERIES + group - 1) / group);
        int tiles = (Tq + rowsPerTile - 1) / rowsPerTile;
        Parallel.forRange(B * Hkv * tiles, 1, (i0, i1) -> {
            ForwardScratch sc = new ForwardScratch(rowsPerTile * group, D);
            for (int item = i0; item < i1; item++) {
                int tile = item % tiles, bk = item / tiles;
                int t0 = tile * rowsPerTile;
                forwardTile(sc, out, lse, q, k, v, keyMask, bk / Hkv, bk % Hkv, t0, Math.min(Tq, t0 + rowsPerTile),
                        Tq, Tk, Hq, Hkv, D, qStart, scale);
            }
        });
    }

    private static final class ForwardScratch {
        final float[] kt, scores, scores2, qs, acc, m, l;

        ForwardScratch(int queries, int D) {
            kt = new float[D * BK];
            scores = new float[BK];
            scores2 = new float[BK];
            qs = new float[queries * D];
            acc = new float[queries * D];
            m = new float[queries];
            l = new float[queries];
        }
    }

    private static void forwardTile(ForwardScratch sc, float[] out, float[] lse, float[] q, float[] k, float[] v,
                                    byte[] keyMask, int b, int kh, int t0, int t1, int Tq, int Tk, int Hq, int Hkv,
                                    int D, int qStart, float scale) {
        int group = Hq / Hkv, nq = (t1 - t0) * group, kvStride = Hkv * D;
        // queries of the tile, pre-scaled: qs[qi] = q[b, t, kh*group + g] * scale, qi = (t - t0) * group + g
        for (int qi = 0; qi < nq; qi++) {
            int qBase = queryBase(b, t0 + qi / group, kh * group + qi % group, Tq, Hq, D);
            for (int d = 0; d < D; d++) sc.qs[qi * D + d] = q[qBase + d] * scale;
        }
        java.util.Arrays.fill(sc.m, 0, nq, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(sc.l, 0, nq, 0f);
        java.util.Arrays.fill(sc.acc, 0, nq * D, 0f);
        int keyEnd = Math.min(Tk, qStart + t1);   // the last query of the tile sees keys < qStart + t1
        int kvBase = (b * Tk * Hkv + kh) * D;      // k[b, 0, kh, 0]
        for (int j0 = 0; j0 < keyEnd; j0 += BK) {
            int j1 = Math.min(keyEnd, j0 + BK);
            int real = countReal(keyMask, b, Tk, j0, j1);
            if (real == 0) continue;                 // a fully padded block
            boolean allReal = real == j1 - j0;
            // few queries (decode: one row x the group's heads): dot products straight off the
            // K rows beat transposing the block for them
            boolean direct = nq <= DIRECT_MAX_QUERIES;
            if (!direct) transposeBlock(k, kvBase, kvStride, j0, j1, D, sc.kt);
            // queries two at a time: the pair shares every K^T and V load (queries are ordered
            // by row, so when query qi sees this block, qi + 1 does too)
            for (int qi = 0; qi < nq; ) {
                if (j0 > qStart + t0 + qi / group) { qi++; continue; }   // whole block in this query's future
                boolean pair = qi + 1 < nq;
                if (direct) {
                    scoresDirect(sc.qs, qi * D, pair ? (qi + 1) * D : -1, k, kvBase + j0 * kvStride, kvStride,
                            j1 - j0, D, sc.scores, sc.scores2);
                } else if (pair) {
                    scoresAgainstBlock2(sc.qs, qi * D, (qi + 1) * D, sc.kt, D, sc.scores, sc.scores2);
                } else {
                    scoresAgainstBlock(sc.qs, qi * D, sc.kt, D, sc.scores);
                }
                int n0 = onlineSoftmaxStep(sc, sc.scores, qi, keyMask, b, Tk, j0, j1, allReal, qStart + t0 + qi / group, D);
                int n1 = pair ? onlineSoftmaxStep(sc, sc.scores2, qi + 1, keyMask, b, Tk, j0, j1, allReal,
                        qStart + t0 + (qi + 1) / group, D) : 0;
                int kvRow = kvBase + j0 * kvStride;
                if (n0 > 0 && n1 > 0) {
                    accumulatePV2(sc.scores, sc.scores2, Math.max(n0, n1), v, kvRow, kvStride, sc.acc, qi * D, (qi + 1) * D, D);
                } else if (n0 > 0) {
                    accumulatePV(sc.scores, n0, v, kvRow, kvStride, sc.acc, qi * D, D);
                } else if (n1 > 0) {
                    accumulatePV(sc.scores2, n1, v, kvRow, kvStride, sc.acc, (qi + 1) * D, D);
                }
                qi += pair ? 2 : 1;
            }
        }
        for (int qi = 0; qi < nq; qi++) {
            int t = t0 + qi / group, h = kh * group + qi % group;
            int oBase = queryBase(b, t, h, Tq, Hq, D);
            int lIdx = (b * Hq + h) * Tq + t;
            if (sc.l[qi] == 0f) {                    // no visible key
                java.util.Arrays.fill(out, oBase, oBase + D, 0f);
                lse[lIdx] = Float.NEGATIVE_INFINITY;
            } else {
                float inv = 1f / sc.l[qi];
                for (int d = 0; d < D; d++) out[oBase + d] = sc.acc[qi * D + d] * inv;
                lse[lIdx] = sc.m[qi] + (float) Math.log(sc.l[qi]);
            }
        }
    }

    /**
     * Folds one key block into query qi's online softmax: masks its scores s (causal limit,
     * padding), and if any key is visible rescales l and acc to the new running max and
     * replaces s by p = exp(s - m_new). Returns the number of leading block keys whose p may be
     * non-zero (0 when the block is invisible to this query).
     */
    private static int onlineSoftmaxStep(ForwardScratch sc, float[] s, int qi, byte[] keyMask, int b, int Tk,
                                         int j0, int j1, boolean allReal, int qPos, int D) {
        int nVis = Math.min(j1, qPos + 1) - j0;
        for (int jj = nVis; jj < BK; jj++) s[jj] = Float.NEGATIVE_INFINITY;
        if (!allReal) {
            for (int jj = 0; jj < nVis; jj++) {
                if (keyMask[b * Tk + j0 + jj] == 0) s[jj] = Float.NEGATIVE_INFINITY;
            }
        }
        float blockMax = maxOf(s);
        if (blockMax == Float.NEGATIVE_INFINITY) return 0;
        float mOld = sc.m[qi], mNew = Math.max(mOld, blockMax);
        float corr = (float) Math.exp(mOld - mNew);   // 0 on the first visible block
        float pSum = expShiftInPlace(s, mNew);
        sc.l[qi] = sc.l[qi] * corr + pSum;
        sc.m[qi] = mNew;
        if (corr != 1f) scaleRow(sc.acc, qi * D, D, corr);
        return nVis;
    }

    /** acc[a..a+D) += sum_{jj < n} p[jj] * v[row jj]; masked keys (p = 0) are skipped, so garbage in padded v rows never leaks. */
    private static void accumulatePV(float[] p, int n, float[] v, int vBase, int vStride, float[] acc, int a, int D) {
        for (int jj = 0; jj < n; jj++) {
            if (p[jj] != 0f) axpy(p[jj], v, vBase + jj * vStride, acc, a, D);
        }
    }

    /**
     * Two queries' P V at once, accumulators held in registers: per chunk of up to 4 vectors
     * of D, walk the keys and do 2 x 4 independent FMAs per key (enough chains to hide FMA
     * latency), loading each V chunk once for both queries. A key is skipped when both p are 0.
     */
    private static void accumulatePV2(float[] p0, float[] p1, int n, float[] v, int vBase, int vStride,
                                      float[] acc, int a0, int a1, int D) {
        int d = 0;
        for (; d + 4 * L <= D; d += 4 * L) {
            FloatVector x0 = FloatVector.fromArray(S, acc, a0 + d), x1 = FloatVector.fromArray(S, acc, a0 + d + L);
            FloatVector x2 = FloatVector.fromArray(S, acc, a0 + d + 2 * L), x3 = FloatVector.fromArray(S, acc, a0 + d + 3 * L);
            FloatVector y0 = FloatVector.fromArray(S, acc, a1 + d), y1 = FloatVector.fromArray(S, acc, a1 + d + L);
            FloatVector y2 = FloatVector.fromArray(S, acc, a1 + d + 2 * L), y3 = FloatVector.fromArray(S, acc, a1 + d + 3 * L);
            for (int jj = 0; jj < n; jj++) {
                float q0 = p0[jj], q1 = p1[jj];
                if (q0 == 0f && q1 == 0f) continue;
                int row = vBase + jj * vStride + d;
                FloatVector b0 = FloatVector.broadcast(S, q0), b1 = FloatVector.broadcast(S, q1);
                FloatVector v0 = FloatVector.fromArray(S, v, row), v1 = FloatVector.fromArray(S, v, row + L);
                FloatVector v2 = FloatVector.fromArray(S, v, row + 2 * L), v3 = FloatVector.fromArray(S, v, row + 3 * L);
                x0 = v0.fma(b0, x0); x1 = v1.fma(b0, x1); x2 = v2.fma(b0, x2); x3 = v3.fma(b0, x3);
                y0 = v0.fma(b1, y0); y1 = v1.fma(b1, y1); y2 = v2.fma(b1, y2); y3 = v3.fma(b1, y3);
            }
            x0.intoArray(acc, a0 + d); x1.intoArray(acc, a0 + d + L); x2.intoArray(acc, a0 + d + 2 * L); x3.intoArray(acc, a0 + d + 3 * L);
            y0.intoArray(acc, a1 + d); y1.intoArray(acc, a1 + d + L); y2.intoArray(acc, a1 + d + 2 * L); y3.intoArray(acc, a1 + d + 3 * L);
        }
        for (; d + L <= D; d += L) {
            FloatVector x0 = FloatVector.fromArray(S, acc, a0 + d), y0 = FloatVector.fromArray(S, acc, a1 + d);
            for (int jj = 0; jj < n; jj++) {
                float q0 = p0[jj], q1 = p1[jj];
                if (q0 == 0f && q1 == 0f) continue;
                FloatVector v0 = FloatVector.fromArray(S, v, vBase + jj * vStride + d);
                x0 = v0.fma(FloatVector.broadcast(S, q0), x0);
                y0 = v0.fma(FloatVector.broadcast(S, q1), y0);
            }
            x0.intoArray(acc, a0 + d);
            y0.intoArray(acc, a1 + d);
        }
        for (; d < D; d++) {
            float x0 = acc[a0 + d], y0 = acc[a1 + d];
            for (int jj = 0; jj < n; jj++) {
                float q0 = p0[jj], q1 = p1[jj];
                if (q0 == 0f && q1 == 0f) continue;
                float vv = v[vBase + jj * vStride + d];
                x0 = Math.fma(q0, vv, x0);
                y0 = Math.fma(q1, vv, y0);
            }
            acc[a0 + d] = x0;
            acc[a1 + d] = y0;
        }
    }

    // =================================================================== fast backward

    /** Work items the backward pass aims for when there are few (batch, kv-head) pairs: 2 per core on 2 cores. */
    static final int BACKWARD_ITEMS = 4;

    /**
     * Flash-attention-2 backward. Work items are (batch, kv head, range of query rows). An item
     * walks the key blocks; per block it transposes K and V once, then for the queries of its
     * range (all heads of the group, two at a time so they share every K^T / V^T load) recomputes
     * p = exp(q.k * scale - lse), dP = dout . v and dS = p (dP - Di) with Di = dout . out, kept as
     * [queries, block] rows; then it accumulates dv_j += p_j dout and dk_j += scale dS_j q into
     * the block's scratch rows and dq += scale dS_j k_j into dq, each as a register-tiled
     * product over those rows (one rank-1 update per query, as this loop did before, loaded and
     * stored dk, dv and dq rows for every query and key: 1.6-1.8x slower here, with the same
     * fma chain per element, so the results are bit-identical). dq rows are owned by exactly one item. dk/dv of a
     * kv head collect every query row of every head in its group: when there are enough
     * (batch, kv head) pairs to keep the threads busy each item owns them and adds straight
     * into dk/dv; otherwise query ranges are split (balanced by causal work) and each split
     * sums into its own dk/dv partial, reduced afterwards in split order (race-free, and the same
     * bits on any thread count).
     */
    public static void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        String op = "attentionBackward";
        check(op, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        KernelChecks.Shape qs = () -> qShape(B, Tq, Hq, D), ks = () -> kShape(B, Tk, Hkv, D);
        KernelChecks.fits(op, "dout", dout, (long) B * Tq * Hq * D, qs);
        KernelChecks.fits(op, "out", out, (long) B * Tq * Hq * D, qs);
        KernelChecks.fits(op, "lse", lse, (long) B * Hq * Tq, () -> "[B=" + B + ",Hq=" + Hq + ",Tq=" + Tq + "]");
        KernelChecks.fits(op, "dq", dq, (long) B * Tq * Hq * D, qs);
        KernelChecks.fits(op, "dk", dk, (long) B * Tk * Hkv * D, ks);
        KernelChecks.fits(op, "dv", dv, (long) B * Tk * Hkv * D, ks);
        if (B == 0 || Tq == 0 || Tk == 0 || Hq == 0 || D == 0) return;
        int pairs = B * Hkv;
        // a fixed number of work items, not one per thread: the dk/dv partials are summed per split,
        // so the split (and the bits) must not depend on the thread count
        int wanted = BACKWARD_ITEMS;
        int splits = pairs >= wanted ? 1 : Math.min(Tq, (wanted + pairs - 1) / pairs);
        int[] bounds = balancedQuerySplits(Tq, Tk, qStart, splits);
        float[][] dkPart = splits == 1 ? null : new float[pairs * splits][];
        float[][] dvPart = splits == 1 ? null : new float[pairs * splits][];
        Parallel.forRange(pairs * splits, 1, (i0, i1) -> {
            BackwardScratch sc = new BackwardScratch(D);
            for (int item = i0; item < i1; item++) {
                int pair = item / splits, split = item % splits;
                int b = pair / Hkv, kh = pair % Hkv;
                int t0 = bounds[split], t1 = bounds[split + 1];
                if (t0 == t1) continue;
                if (splits == 1) {
                    backwardRange(sc, dq, dk, dv, (b * Tk * Hkv + kh) * D, Hkv * D, dout, q, k, v, out, lse, keyMask,
                            b, kh, t0, t1, Tq, Tk, Hq, Hkv, D, qStart, scale);
                } else {
                    int keys = Math.min(Tk, qStart + t1);
                    dkPart[item] = new float[keys * D];
                    dvPart[item] = new float[keys * D];
                    backwardRange(sc, dq, dkPart[item], dvPart[item], 0, D, dout, q, k, v, out, lse, keyMask,
                            b, kh, t0, t1, Tq, Tk, Hq, Hkv, D, qStart, scale);
                }
            }
        });
        if (splits > 1) {
            Parallel.forRange(pairs, 1, (p0, p1) -> {
                for (int pair = p0; pair < p1; pair++) {
                    int b = pair / Hkv, kh = pair % Hkv;
                    for (int split = 0; split < splits; split++) {
                        float[] pk = dkPart[pair * splits + split], pv = dvPart[pair * splits + split];
                        if (pk == null) continue;
                        for (int j = 0, keys = pk.length / D; j < keys; j++) {
                            int dst = ((b * Tk + j) * Hkv + kh) * D;
                            addRow(pk, j * D, dk, dst, D);
                            addRow(pv, j * D, dv, dst, D);
                        }
                    }
                }
            });
        }
    }

    /**
     * Splits query rows [0, Tq) into ranges of roughly equal causal work (row t costs
     * ~qStart + t + 1 keys). Returns splits + 1 boundaries; some ranges may be empty.
     */
    static int[] balancedQuerySplits(int Tq, int Tk, int qStart, int splits) {
        int[] bounds = new int[splits + 1];
        double total = 0;
        for (int t = 0; t < Tq; t++) total += Math.min(Tk, qStart + t + 1);
        double acc = 0;
        int s = 1;
        for (int t = 0; t < Tq && s < splits; t++) {
            acc += Math.min(Tk, qStart + t + 1);
            while (s < splits && acc >= total * s / splits) bounds[s++] = t + 1;
        }
        while (s <= splits) bounds[s++] = Tq;
        return bounds;
    }

    private static final class BackwardScratch {
        final float[] kt, vt, p, p2, dp, dp2, dkb, dvb, qs;
        /** For one key block, row r = the r-th query that sees it: pm[r*BK + jj] = p, dsm[r*BK + jj] = dS. */
        float[] pm = new float[0], dsm = new float[0];
        /** Offset of that query's row in q / dout / dq. */
        int[] base = new int[0];

        BackwardScratch(int D) {
            kt = new float[D * BK];
            vt = new float[D * BK];
            p = new float[BK];
            p2 = new float[BK];
            dp = new float[BK];
            dp2 = new float[BK];
            dkb = new float[BK * D];
            dvb = new float[BK * D];
            qs = new float[2 * D];
        }

        void ensureRows(int rows) {
            if (base.length >= rows) return;
            pm = new float[rows * BK];
            dsm = new float[rows * BK];
            base = new int[rows];
        }
    }

    /**
     * Backward for query rows [t0, t1) of all heads reading kv head kh of batch b. dk/dv rows
     * are added at dkBase + j * dkStride (straight into dk/dv, or into a partial [keys, D]).
     */
    private static void backwardRange(BackwardScratch sc, float[] dq, float[] dk, float[] dv, int dkBase, int dkStride,
                                      float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse,
                                      byte[] keyMask, int b, int kh, int t0, int t1, int Tq, int Tk, int Hq, int Hkv,
                                      int D, int qStart, float scale) {
        int group = Hq / Hkv, kvStride = Hkv * D;
        int kvBase = (b * Tk * Hkv + kh) * D;
        int nq = (t1 - t0) * group;
        // Di = dout . out per query (the softmax backward's row term, FA2's "D")
        float[] di = new float[nq];
        for (int qi = 0; qi < nq; qi++) {
            int base = queryBase(b, t0 + qi / group, kh * group + qi % group, Tq, Hq, D);
            di[qi] = dot(dout, base, out, base, D);
        }
        int keyEnd = Math.min(Tk, qStart + t1);
        for (int j0 = 0; j0 < keyEnd; j0 += BK) {
            int j1 = Math.min(keyEnd, j0 + BK), nk = j1 - j0;
            int real = countReal(keyMask, b, Tk, j0, j1);
            if (real == 0) continue;
            boolean allReal = real == nk;
            transposeBlock(k, kvBase, kvStride, j0, j1, D, sc.kt);
            transposeBlock(v, kvBase, kvStride, j0, j1, D, sc.vt);
            java.util.Arrays.fill(sc.dkb, 0, nk * D, 0f);
            java.util.Arrays.fill(sc.dvb, 0, nk * D, 0f);
            // queries before j0 - qStart cannot see this block; the others are scored in pairs
            // that share every K^T and V^T load (a query that saw no key is skipped), their p and
            // dS kept as rows of pm / dsm in query order
            sc.ensureRows(nq);
            int rows = 0, n = 0, pending = -1;
            for (int qi = Math.max(0, j0 - qStart - t0) * group; qi < nq; qi++) {
                int t = t0 + qi / group, h = kh * group + qi % group;
                if (lse[(b * Hq + h) * Tq + t] == Float.NEGATIVE_INFINITY) continue;   // no gradient
                if (pending < 0) { pending = qi; continue; }
                n = Math.max(n, scoreQueries(sc, rows, pending, qi, di, dout, q, lse, keyMask, b, kh, t0, j0, j1, allReal,
                        Tq, Tk, Hq, Hkv, D, qStart, scale));
                rows += 2;
                pending = -1;
            }
            if (pending >= 0) {
                n = Math.max(n, scoreQueries(sc, rows, pending, -1, di, dout, q, lse, keyMask, b, kh, t0, j0, j1, allReal,
                        Tq, Tk, Hq, Hkv, D, qStart, scale));
                rows++;
            }
            if (!anyNonZero(sc.pm, rows, n)) continue;
            accumulateKeyRows(sc.pm, sc.base, rows, n, dout, sc.dvb, D);   // dv_j += sum over queries p_j dout
            accumulateKeyRows(sc.dsm, sc.base, rows, n, q, sc.dkb, D);     // dk_j += sum over queries scale dS_j q
            accumulateDq(sc.dsm, sc.base, rows, n, k, kvBase + j0 * kvStride, kvStride, dq, D);
            for (int jj = 0; jj < nk; jj++) {
                int dst = dkBase + (j0 + jj) * dkStride;
                addRow(sc.dkb, jj * D, dk, dst, D);
                addRow(sc.dvb, jj * D, dv, dst, D);
            }
        }
    }

    /**
     * One key block's p and dS for query qa and, when qb >= 0, query qb (indices into the range's
     * queries), into rows r and r + 1 of pm / dsm: p = exp(q.k * scale - lse) (masked -> 0),
     * dP = dout . v against the transposed block, dS = scale p (dP - Di), exactly 0 where p is 0.
     * Returns the number of keys of the block the two can see.
     */
    private static int scoreQueries(BackwardScratch sc, int r, int qa, int qb, float[] di, float[] dout, float[] q,
                                    float[] lse, byte[] keyMask, int b, int kh, int t0, int j0, int j1, boolean allReal,
                                    int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        int group = Hq / Hkv;
        boolean two = qb >= 0;
        int ta = t0 + qa / group, ha = kh * group + qa % group, baseA = queryBase(b, ta, ha, Tq, Hq, D);
        int tb = two ? t0 + qb / group : 0, hb = two ? kh * group + qb % group : 0;
        int baseB = two ? queryBase(b, tb, hb, Tq, Hq, D) : 0;
        scaleInto(q, baseA, scale, sc.qs, 0, D);
        if (two) {
            scaleInto(q, baseB, scale, sc.qs, D, D);
            scoresAgainstBlock2(sc.qs, 0, D, sc.kt, D, sc.p, sc.p2);
            scoresAgainstBlock2(dout, baseA, baseB, sc.vt, D, sc.dp, sc.dp2);   // dP_j = dout . v_j
        } else {
            scoresAgainstBlock(sc.qs, 0, sc.kt, D, sc.p);
            scoresAgainstBlock(dout, baseA, sc.vt, D, sc.dp);
        }
        int nA = maskAndExp(sc.p, Math.min(j1, qStart + ta + 1) - j0, keyMask, b, Tk, j0, allReal, lse[(b * Hq + ha) * Tq + ta]);
        storeRow(sc, r, baseA, sc.p, sc.dp, di[qa], scale);
        if (!two) return nA;
        int nB = maskAndExp(sc.p2, Math.min(j1, qStart + tb + 1) - j0, keyMask, b, Tk, j0, allReal, lse[(b * Hq + hb) * Tq + tb]);
        storeRow(sc, r + 1, baseB, sc.p2, sc.dp2, di[qb], scale);
        return Math.max(nA, nB);
    }

    private static void storeRow(BackwardScratch sc, int r, int base, float[] p, float[] dp, float di, float scale) {
        int o = r * BK;
        for (int jj = 0; jj < BK; jj += L) {
            FloatVector pv = FloatVector.fromArray(S, p, jj);
            pv.intoArray(sc.pm, o + jj);
            FloatVector ds = pv.mul(FloatVector.fromArray(S, dp, jj).sub(di)).mul(scale);    // (p (dP - Di)) scale
            ds.blend(0f, pv.compare(VectorOperators.EQ, 0f)).intoArray(sc.dsm, o + jj);
        }
        sc.base[r] = base;
    }

    /** y[yOff..+n) = x[xOff..+n) * c. */
    private static void scaleInto(float[] x, int xOff, float c, float[] y, int yOff, int n) {
        int i = 0, upper = S.loopBound(n);
        for (; i < upper; i += L) FloatVector.fromArray(S, x, xOff + i).mul(c).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[xOff + i] * c;
    }

    /** Whether any of the first n keys of the rows has p != 0 (else the block adds nothing). */
    private static boolean anyNonZero(float[] pm, int rows, int n) {
        for (int r = 0; r < rows; r++) {
            for (int jj = 0; jj < n; jj++) if (pm[r * BK + jj] != 0f) return true;
        }
        return false;
    }

    /** Masks p beyond the causal limit (nVis keys) and padded keys, then p = exp(p - lse). Returns nVis. */
    private static int maskAndExp(float[] p, int nVis, byte[] keyMask, int b, int Tk, int j0, boolean allReal, float lse) {
        for (int jj = Math.max(0, nVis); jj < BK; jj++) p[jj] = Float.NEGATIVE_INFINITY;
        if (!allReal) {
            for (int jj = 0; jj < nVis; jj++) {
                if (keyMask[b * Tk + j0 + jj] == 0) p[jj] = Float.NEGATIVE_INFINITY;
            }
        }
        expShiftInPlace(p, lse);
        return Math.max(0, nVis);
    }

    /**
     * acc[jj, :] += sum over rows r (in order) of w[r, jj] * x[base[r] .. + D) for keys jj < n:
     * the dv (w = p, x = dout) and dk (w = dS, x = q) rows of a key block. Register tiles of 4
     * keys x 2 vectors of D (then 4 x 1, then single keys), the rows streamed in order, so every
     * element is the same chain of fmas as one rank-1 update per query (a weight of 0 adds
     * exactly nothing).
     */
    private static void accumulateKeyRows(float[] w, int[] base, int rows, int n, float[] x, float[] acc, int D) {
        int jj = 0;
        for (; jj + 4 <= n; jj += 4) {
            int a0 = jj * D, a1 = a0 + D, a2 = a1 + D, a3 = a2 + D, d = 0;
            for (; d + 2 * L <= D; d += 2 * L) {
                FloatVector c00 = FloatVector.fromArray(S, acc, a0 + d), c01 = FloatVector.fromArray(S, acc, a0 + d + L);
                FloatVector c10 = FloatVector.fromArray(S, acc, a1 + d), c11 = FloatVector.fromArray(S, acc, a1 + d + L);
                FloatVector c20 = FloatVector.fromArray(S, acc, a2 + d), c21 = FloatVector.fromArray(S, acc, a2 + d + L);
                FloatVector c30 = FloatVector.fromArray(S, acc, a3 + d), c31 = FloatVector.fromArray(S, acc, a3 + d + L);
                for (int r = 0; r < rows; r++) {
                    int xo = base[r] + d, wo = r * BK + jj;
                    FloatVector x0 = FloatVector.fromArray(S, x, xo), x1 = FloatVector.fromArray(S, x, xo + L);
                    FloatVector v = FloatVector.broadcast(S, w[wo]);
                    c00 = x0.fma(v, c00); c01 = x1.fma(v, c01);
                    v = FloatVector.broadcast(S, w[wo + 1]);
                    c10 = x0.fma(v, c10); c11 = x1.fma(v, c11);
                    v = FloatVector.broadcast(S, w[wo + 2]);
                    c20 = x0.fma(v, c20); c21 = x1.fma(v, c21);
                    v = FloatVector.broadcast(S, w[wo + 3]);
                    c30 = x0.fma(v, c30); c31 = x1.fma(v, c31);
                }
                c00.intoArray(acc, a0 + d); c01.intoArray(acc, a0 + d + L);
                c10.intoArray(acc, a1 + d); c11.intoArray(acc, a1 + d + L);
                c20.intoArray(acc, a2 + d); c21.intoArray(acc, a2 + d + L);
                c30.intoArray(acc, a3 + d); c31.intoArray(acc, a3 + d + L);
            }
            for (; d + L <= D; d += L) {
                FloatVector c0 = FloatVector.fromArray(S, acc, a0 + d), c1 = FloatVector.fromArray(S, acc, a1 + d);
                FloatVector c2 = FloatVector.fromArray(S, acc, a2 + d), c3 = FloatVector.fromArray(S, acc, a3 + d);
                for (int r = 0; r < rows; r++) {
                    int wo = r * BK + jj;
                    FloatVector x0 = FloatVector.fromArray(S, x, base[r] + d);
                    c0 = x0.fma(FloatVector.broadcast(S, w[wo]), c0);
                    c1 = x0.fma(FloatVector.broadcast(S, w[wo + 1]), c1);
                    c2 = x0.fma(FloatVector.broadcast(S, w[wo + 2]), c2);
                    c3 = x0.fma(FloatVector.broadcast(S, w[wo + 3]), c3);
                }
                c0.intoArray(acc, a0 + d); c1.intoArray(acc, a1 + d); c2.intoArray(acc, a2 + d); c3.intoArray(acc, a3 + d);
            }
            for (int k4 = jj; k4 < jj + 4; k4++) accumulateKeyRowTail(w, base, rows, k4, d, x, acc, D);
        }
        for (; jj < n; jj++) accumulateKeyRowTail(w, base, rows, jj, 0, x, acc, D);
    }

    /** accumulateKeyRows for key jj and elements [d0, D): vectors while they fit, then scalars. */
    private static void accumulateKeyRowTail(float[] w, int[] base, int rows, int jj, int d0, float[] x, float[] acc, int D) {
        int a = jj * D, d = d0;
        for (; d + L <= D; d += L) {
            FloatVector c = FloatVector.fromArray(S, acc, a + d);
            for (int r = 0; r < rows; r++) c = FloatVector.fromArray(S, x, base[r] + d).fma(FloatVector.broadcast(S, w[r * BK + jj]), c);
            c.intoArray(acc, a + d);
        }
        for (; d < D; d++) {
            float c = acc[a + d];
            for (int r = 0; r < rows; r++) c = Math.fma(w[r * BK + jj], x[base[r] + d], c);
            acc[a + d] = c;
        }
    }

    /**
     * dq[base[r] .. + D) += sum over keys jj < n (in order) of ds[r, jj] * k_jj for every row r,
     * k_jj at kRow + jj * kStride. Register tiles of 2 rows x 4 vectors of D, so each k row is
     * loaded once per pair of queries; the same fma chain per element as one update per key.
     */
    private static void accumulateDq(float[] ds, int[] base, int rows, int n, float[] k, int kRow, int kStride, float[] dq, int D) {
        int upper = D - D % (4 * L), r = 0;
        for (; r + 2 <= rows; r += 2) {
            int qa = base[r], qb = base[r + 1], wa = r * BK, wb = wa + BK;
            for (int d = 0; d < upper; d += 4 * L) {
                FloatVector a0 = FloatVector.fromArray(S, dq, qa + d), a1 = FloatVector.fromArray(S, dq, qa + d + L);
                FloatVector a2 = FloatVector.fromArray(S, dq, qa + d + 2 * L), a3 = FloatVector.fromArray(S, dq, qa + d + 3 * L);
                FloatVector b0 = FloatVector.fromArray(S, dq, qb + d), b1 = FloatVector.fromArray(S, dq, qb + d + L);
                FloatVector b2 = FloatVector.fromArray(S, dq, qb + d + 2 * L), b3 = FloatVector.fromArray(S, dq, qb + d + 3 * L);
                for (int jj = 0; jj < n; jj++) {
                    int ko = kRow + jj * kStride + d;
                    FloatVector k0 = FloatVector.fromArray(S, k, ko), k1 = FloatVector.fromArray(S, k, ko + L);
                    FloatVector k2 = FloatVector.fromArray(S, k, ko + 2 * L), k3 = FloatVector.fromArray(S, k, ko + 3 * L);
                    FloatVector sa = FloatVector.broadcast(S, ds[wa + jj]), sb = FloatVector.broadcast(S, ds[wb + jj]);
                    a0 = k0.fma(sa, a0); a1 = k1.fma(sa, a1); a2 = k2.fma(sa, a2); a3 = k3.fma(sa, a3);
                    b0 = k0.fma(sb, b0); b1 = k1.fma(sb, b1); b2 = k2.fma(sb, b2); b3 = k3.fma(sb, b3);
                }
                a0.intoArray(dq, qa + d); a1.intoArray(dq, qa + d + L); a2.intoArray(dq, qa + d + 2 * L); a3.intoArray(dq, qa + d + 3 * L);
                b0.intoArray(dq, qb + d); b1.intoArray(dq, qb + d + L); b2.intoArray(dq, qb + d + 2 * L); b3.intoArray(dq, qb + d + 3 * L);
            }
            int d = upper;
            for (; d + L <= D; d += L) {         // the rest of D a vector at a time, still both rows per k load
                FloatVector a0 = FloatVector.fromArray(S, dq, qa + d), b0 = FloatVector.fromArray(S, dq, qb + d);
                for (int jj = 0; jj < n; jj++) {
                    FloatVector k0 = FloatVector.fromArray(S, k, kRow + jj * kStride + d);
                    a0 = k0.fma(FloatVector.broadcast(S, ds[wa + jj]), a0);
                    b0 = k0.fma(FloatVector.broadcast(S, ds[wb + jj]), b0);
                }
                a0.intoArray(dq, qa + d);
                b0.intoArray(dq, qb + d);
            }
            accumulateDqTail(ds, wa, qa, n, d, k, kRow, kStride, dq, D);
            accumulateDqTail(ds, wb, qb, n, d, k, kRow, kStride, dq, D);
        }
        if (r < rows) accumulateDqTail(ds, r * BK, base[r], n, 0, k, kRow, kStride, dq, D);
    }

    /** accumulateDq for one row (weights at ds[w..]) and elements [d0, D): vectors while they fit, then scalars. */
    private static void accumulateDqTail(float[] ds, int w, int q, int n, int d0, float[] k, int kRow, int kStride, float[] dq, int D) {
        int d = d0, upper = S.loopBound(D);
        for (; d < upper; d += L) {
            FloatVector a = FloatVector.fromArray(S, dq, q + d);
            for (int jj = 0; jj < n; jj++) a = FloatVector.fromArray(S, k, kRow + jj * kStride + d).fma(FloatVector.broadcast(S, ds[w + jj]), a);
            a.intoArray(dq, q + d);
        }
        for (; d < D; d++) {
            float a = dq[q + d];
            for (int jj = 0; jj < n; jj++) a = Math.fma(ds[w + jj], k[kRow + jj * kStride + d], a);
            dq[q + d] = a;
        }
    }

    // =================================================================== vector helpers

    /** Number of real keys among [j0, j1) of batch row b. */
    private static int countReal(byte[] keyMask, int b, int Tk, int j0, int j1) {
        if (keyMask == null) return j1 - j0;
        int n = 0;
        for (int j = j0; j < j1; j++) if (keyMask[b * Tk + j] != 0) n++;
        return n;
    }

    /** kt[d * BK + jj] = x[base + (j0 + jj) * stride + d] for the block's keys; stale columns beyond are masked by callers. */
    private static void transposeBlock(float[] x, int base, int stride, int j0, int j1, int D, float[] kt) {
        for (int j = j0; j < j1; j++) {
            int src = base + j * stride, col = j - j0;
            for (int d = 0; d < D; d++) kt[d * BK + col] = x[src + d];
        }
    }

    /** s[jj] = sum_d a[aOff + d] * kt[d, jj] for the BK keys of the block (four vector accumulators). */
    private static void scoresAgainstBlock(float[] a, int aOff, float[] kt, int D, float[] s) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        for (int d = 0; d < D; d++) {
            FloatVector ad = FloatVector.broadcast(S, a[aOff + d]);
            int row = d * BK;
            s0 = ad.fma(FloatVector.fromArray(S, kt, row), s0);
            s1 = ad.fma(FloatVector.fromArray(S, kt, row + L), s1);
            s2 = ad.fma(FloatVector.fromArray(S, kt, row + 2 * L), s2);
            s3 = ad.fma(FloatVector.fromArray(S, kt, row + 3 * L), s3);
        }
        s0.intoArray(s, 0);
        s1.intoArray(s, L);
        s2.intoArray(s, 2 * L);
        s3.intoArray(s, 3 * L);
    }

    /** Scores of two queries against the block at once: 8 independent FMA chains, each K^T row loaded once. */
    private static void scoresAgainstBlock2(float[] a, int off0, int off1, float[] kt, int D, float[] s, float[] t) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        FloatVector t0 = FloatVector.zero(S), t1 = FloatVector.zero(S), t2 = FloatVector.zero(S), t3 = FloatVector.zero(S);
        for (int d = 0; d < D; d++) {
            FloatVector ad = FloatVector.broadcast(S, a[off0 + d]), bd = FloatVector.broadcast(S, a[off1 + d]);
            int row = d * BK;
            FloatVector k0 = FloatVector.fromArray(S, kt, row), k1 = FloatVector.fromArray(S, kt, row + L);
            FloatVector k2 = FloatVector.fromArray(S, kt, row + 2 * L), k3 = FloatVector.fromArray(S, kt, row + 3 * L);
            s0 = ad.fma(k0, s0); s1 = ad.fma(k1, s1); s2 = ad.fma(k2, s2); s3 = ad.fma(k3, s3);
            t0 = bd.fma(k0, t0); t1 = bd.fma(k1, t1); t2 = bd.fma(k2, t2); t3 = bd.fma(k3, t3);
        }
        s0.intoArray(s, 0); s1.intoArray(s, L); s2.intoArray(s, 2 * L); s3.intoArray(s, 3 * L);
        t0.intoArray(t, 0); t1.intoArray(t, L); t2.intoArray(t, 2 * L); t3.intoArray(t, 3 * L);
    }

    /**
     * Scores of query a (and b, when offB >= 0) against the nk keys starting at row kRow (stride
     * kStride), as dot products over D: each K row is loaded once for both queries. Entries
     * nk.. of s/t are left as they are (callers mask them).
     */
    private static void scoresDirect(float[] qs, int offA, int offB, float[] k, int kRow, int kStride, int nk, int D,
                                     float[] s, float[] t) {
        int upper = S.loopBound(D);
        for (int jj = 0; jj < nk; jj++) {
            int row = kRow + jj * kStride;
            FloatVector a = FloatVector.zero(S), c = FloatVector.zero(S);
            int d = 0;
            if (offB >= 0) {
                for (; d < upper; d += L) {
                    FloatVector kv = FloatVector.fromArray(S, k, row + d);
                    a = kv.fma(FloatVector.fromArray(S, qs, offA + d), a);
                    c = kv.fma(FloatVector.fromArray(S, qs, offB + d), c);
                }
                float sa = VectorMath.sum(a), sb = VectorMath.sum(c);
                for (; d < D; d++) {
                    sa += qs[offA + d] * k[row + d];
                    sb += qs[offB + d] * k[row + d];
                }
                s[jj] = sa;
                t[jj] = sb;
            } else {
                for (; d < upper; d += L) a = FloatVector.fromArray(S, k, row + d).fma(FloatVector.fromArray(S, qs, offA + d), a);
                float sa = VectorMath.sum(a);
                for (; d < D; d++) sa += qs[offA + d] * k[row + d];
                s[jj] = sa;
            }
        }
    }

    private static float maxOf(float[] s) {
        FloatVector m = FloatVector.fromArray(S, s, 0).max(FloatVector.fromArray(S, s, L))
                .max(FloatVector.fromArray(S, s, 2 * L)).max(FloatVector.fromArray(S, s, 3 * L));
        return m.reduceLanes(VectorOperators.MAX);
    }

    /** s = exp(s - shift) in place (-inf -> 0); returns the sum. */
    private static float expShiftInPlace(float[] s, float shift) {
        FloatVector sum = FloatVector.zero(S);
        for (int i = 0; i < BK; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, s, i).sub(shift));
            e.intoArray(s, i);
            sum = sum.add(e);
        }
        return VectorMath.sum(sum);
    }

    /** y[yOff..+n) += alpha * x[xOff..+n). */
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0, upper = S.loopBound(n);
        for (; i < upper; i += L) {
            a.fma(FloatVector.fromArray(S, x, xOff + i), FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
    }

    private static void addRow(float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0, upper = S.loopBound(n);
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += x[xOff + i];
    }

    private static void scaleRow(float[] x, int off, int n, float c) {
        int i = 0, upper = S.loopBound(n);
        for (; i < upper; i += L) FloatVector.fromArray(S, x, off + i).mul(c).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= c;
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, upper = S.loopBound(n);
        for (; i < upper; i += L) acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), acc);
        float s = VectorMath.sum(acc);
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** Offset of q[b, t, h, 0] (also out, dq, dout) in [B, Tq, Hq, D]. */
    private static int queryBase(int b, int t, int h, int Tq, int Hq, int D) {
        return ((b * Tq + t) * Hq + h) * D;
    }

    // =================================================================== scalar reference


    /**
     * The control: for each (b, h, t) the scores of the visible keys are materialised in double,
     * softmaxed the textbook way (max, exp, sum) and used to average v.
     */
    public static void attentionForwardReference(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        check("attentionForwardReference", q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        KernelChecks.fits("attentionForwardReference", "out", out, (long) B * Tq * Hq * D, () -> qShape(B, Tq, Hq, D));
        KernelChecks.fits("attentionForwardReference", "lse", lse, (long) B * Hq * Tq, () -> "[B=" + B + ",Hq=" + Hq + ",Tq=" + Tq + "]");
        int group = Hq / Hkv;
        double[] scores = new double[Tk];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < Hq; h++) {
                int kh = h / group;
                for (int t = 0; t < Tq; t++) {
                    int qBase = ((b * Tq + t) * Hq + h) * D;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < Tk; j++) {
                        if (!visible(keyMask, b, Tk, j, qStart + t)) continue;
                        int kBase = ((b * Tk + j) * Hkv + kh) * D;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += (double) q[qBase + d] * k[kBase + d];
                        scores[j] = s * scale;
                        max = Math.max(max, scores[j]);
                    }
                    int lseIdx = (b * Hq + h) * Tq + t;
                    if (max == Double.NEGATIVE_INFINITY) {   // no visible key
                        for (int d = 0; d < D; d++) out[qBase + d] = 0f;
                        lse[lseIdx] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    double sum = 0;
                    for (int j = 0; j < Tk; j++) {
                        if (visible(keyMask, b, Tk, j, qStart + t)) sum += Math.exp(scores[j] - max);
                    }
                    double[] acc = new double[D];
                    for (int j = 0; j < Tk; j++) {
                        if (!visible(keyMask, b, Tk, j, qStart + t)) continue;
                        double p = Math.exp(scores[j] - max) / sum;
                        int vBase = ((b * Tk + j) * Hkv + kh) * D;
                        for (int d = 0; d < D; d++) acc[d] += p * v[vBase + d];
                    }
                    for (int d = 0; d < D; d++) out[qBase + d] = (float) acc[d];
                    lse[lseIdx] = (float) (max + Math.log(sum));
                }
            }
        }
    }


    /**
     * The control: recomputes each query's probabilities from scratch (not from the saved lse
     * and out, which it ignores) and applies the textbook softmax backward in double:
     * dP_j = dout . v_j,  dS_j = P_j (dP_j - sum_i P_i dP_i),
     * dq += scale sum_j dS_j k_j,  dk_j += scale dS_j q,  dv_j += P_j dout.
     */
    public static void attentionBackwardReference(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        String op = "attentionBackwardReference";
        check(op, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        KernelChecks.Shape qs = () -> qShape(B, Tq, Hq, D), ks = () -> kShape(B, Tk, Hkv, D);
        KernelChecks.fits(op, "dout", dout, (long) B * Tq * Hq * D, qs);
        KernelChecks.fits(op, "dq", dq, (long) B * Tq * Hq * D, qs);
        KernelChecks.fits(op, "dk", dk, (long) B * Tk * Hkv * D, ks);
        KernelChecks.fits(op, "dv", dv, (long) B * Tk * Hkv * D, ks);
        int group = Hq / Hkv;
        double[] p = new double[Tk], dp = new double[Tk];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < Hq; h++) {
                int kh = h / group;
                for (int t = 0; t < Tq; t++) {
                    int qBase = ((b * Tq + t) * Hq + h) * D;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < Tk; j++) {
                        if (!visible(keyMask, b, Tk, j, qStart + t)) continue;
                        int kBase = ((b * Tk + j) * Hkv + kh) * D;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += (double) q[qBase + d] * k[kBase + d];
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    if (max == Double.NEGATIVE_INFINITY) continue;   // no visible key: output was 0, no gradient
                    double sum = 0;
                    for (int j = 0; j < Tk; j++) {
                        if (visible(keyMask, b, Tk, j, qStart + t)) sum += Math.exp(p[j] - max);
                    }
                    double pdp = 0;
                    for (int j = 0; j < Tk; j++) {
                        if (!visible(keyMask, b, Tk, j, qStart + t)) continue;
                        p[j] = Math.exp(p[j] - max) / sum;
                        int vBase = ((b * Tk + j) * Hkv + kh) * D;
                        double s = 0;
                        for (int d = 0; d < D; d++) s += (double) dout[qBase + d] * v[vBase + d];
                        dp[j] = s;
                        pdp += p[j] * s;
                    }
                    for (int j = 0; j < Tk; j++) {
                        if (!visible(keyMask, b, Tk, j, qStart + t)) continue;
                        double ds = p[j] * (dp[j] - pdp) * scale;
                        int kBase = ((b * Tk + j) * Hkv + kh) * D;
                        for (int d = 0; d < D; d++) {
                            dq[qBase + d] += (float) (ds * k[kBase + d]);
                            dk[kBase + d] += (float) (ds * q[qBase + d]);
                            dv[kBase + d] += (float) (p[j] * dout[qBase + d]);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ shared

    static boolean visible(byte[] keyMask, int b, int Tk, int j, int queryPos) {
        return j <= queryPos && (keyMask == null || keyMask[b * Tk + j] != 0);
    }

    static String qShape(int B, int Tq, int Hq, int D) {
        return "[B=" + B + ",Tq=" + Tq + ",Hq=" + Hq + ",D=" + D + "]";
    }

    static String kShape(int B, int Tk, int Hkv, int D) {
        return "[B=" + B + ",Tk=" + Tk + ",Hkv=" + Hkv + ",D=" + D + "]";
    }

    static void check(String op, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart) {
        KernelChecks.dims(op, "B, Tq, Tk, Hq, Hkv, D, qStart", B, Tq, Tk, Hq, Hkv, D, qStart);
        if (Hkv == 0 || Hq % Hkv != 0) {
            throw new IllegalArgumentException(op + ": query heads Hq=" + Hq + " must be a positive multiple of kv heads Hkv=" + Hkv);
        }
        KernelChecks.fits(op, "q", q, (long) B * Tq * Hq * D, () -> qShape(B, Tq, Hq, D));
        KernelChecks.fits(op, "k", k, (long) B * Tk * Hkv * D, () -> kShape(B, Tk, Hkv, D));
        KernelChecks.fits(op, "v", v, (long) B * Tk * Hkv * D, () -> kShape(B, Tk, Hkv, D));
        KernelChecks.fits(op, "keyMask", keyMask, (long) B * Tk, () -> "[B=" + B + ",Tk=" + Tk + "]");
    }
}
