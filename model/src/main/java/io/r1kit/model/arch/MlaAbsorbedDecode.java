package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.tensor.Parameter;

/**
 * MLA decoding from the compressed cache, with the up-projections absorbed (DeepSeek-V2 §2.1.3):
 * per token and layer only {@code c_kv} ({@code kv_lora_rank} floats, after {@code kv_a_layernorm})
 * and the roped shared key {@code k_rope} ({@code qk_rope_head_dim} floats) are cached. With
 * {@code kv_b_proj} split per head into W_UK^h [nope, r] and W_UV^h [v, r]:
 * <pre>
 *   q_lat^h   = W_UK^hᵀ q_nope^h                                  [r]    (W_UK absorbed into the query)
 *   s_j^h     = scale · (q_lat^h · c_kv_j + q_rope^h · k_rope_j)         (= q^h · k_j^h, k_nope_j^h = W_UK^h c_kv_j)
 *   o_lat^h   = Σ_j softmax(s^h)_j c_kv_j                          [r]
 *   o^h       = W_UV^h o_lat^h                                     [v]    (W_UV absorbed into the output)
 * </pre>
 * so no per-head key or value is ever formed. Pure functions on float arrays; {@link #attendExpanded}
 * is the plain computation (per-head keys and values materialised) they are tested against, and
 * {@link #step} is one whole decode step of an {@link MlaAttention} layer (its output before
 * {@code o_proj} is applied too). Not wired into generation.
 */
public final class MlaAbsorbedDecode {
    private MlaAbsorbedDecode() {}

    /** Attention sizes: heads, nope / rope / value head dims, kv_lora_rank. */
    public record Dims(int heads, int nope, int rope, int v, int rank) {
        public static Dims of(ModelConfig c) {
            DeepseekV3Params d = c.deepseek();
            return new Dims(c.numHeads(), d.qkNopeHeadDim(), d.qkRopeHeadDim(), d.vHeadDim(), d.kvLoraRank());
        }
    }

    /**
     * Bytes per token per layer of MLA's cache: (kv_lora_rank + qk_rope_head_dim) elements, against
     * MHA / GQA caching per-head keys [heads · (nope + rope)] and values [heads · v] (GQA with
     * {@code kvHeads} key/value heads: kvHeads · (nope + rope + v)).
     */
    public static long mlaCacheBytesPerToken(Dims d, int bytesPerElement) {
        return (long) (d.rank() + d.rope()) * bytesPerElement;
    }

    /** Bytes per token per layer of a key/value cache with {@code kvHeads} heads of these widths (MHA: kvHeads = heads). */
    public static long kvCacheBytesPerToken(Dims d, int kvHeads, int bytesPerElement) {
        return (long) kvHeads * (d.nope() + d.rope() + d.v()) * bytesPerElement;
    }

    /**
     * The absorbed attention of one new token over {@code n} cached tokens.
     *
     * @param qNope [H·nope] the query's non-rotary part
     * @param qRope [H·rope] the query's rotary part, already roped
     * @param cKv   [n·rank] cached normalised latents
     * @param kRope [n·rope] cached roped shared keys
     * @param kvB   kv_b_proj.weight [H·(nope + v), rank]
     * @return [H·v] the attention output before o_proj
     */
    public static float[] attend(float[] qNope, float[] qRope, float[] cKv, float[] kRope, int n, float[] kvB, Dims d, float scale) {
        int H = d.heads(), dn = d.nope(), dr = d.rope(), dv = d.v(), r = d.rank(), rowsPerHead = dn + dv;
        float[] out = new float[H * dv];
        double[] qLat = new double[r], oLat = new double[r], s = new double[n];
        for (int h = 0; h < H; h++) {
            java.util.Arrays.fill(qLat, 0);
            for (int i = 0; i < dn; i++) {                                  // q_lat = W_UKᵀ q_nope
                double q = qNope[h * dn + i];
                int row = (h * rowsPerHead + i) * r;
                for (int c = 0; c < r; c++) qLat[c] += q * kvB[row + c];
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int c = 0; c < r; c++) dot += qLat[c] * cKv[j * r + c];
                for (int i = 0; i < dr; i++) dot += (double) qRope[h * dr + i] * kRope[j * dr + i];
                s[j] = scale * dot;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
            java.util.Arrays.fill(oLat, 0);
            for (int j = 0; j < n; j++) {
                double p = s[j] / sum;
                for (int c = 0; c < r; c++) oLat[c] += p * cKv[j * r + c];
            }
            for (int i = 0; i < dv; i++) {                                  // o = W_UV o_lat
                int row = (h * rowsPerHead + dn + i) * r;
                double o = 0;
                for (int c = 0; c < r; c++) o += kvB[row + c] * oLat[c];
                out[h * dv + i] = (float) o;
            }
        }
        return out;
    }

    /** {@link #attend} computed plainly: every cached token's per-head key and value formed from c_kv first. */
    public static float[] attendExpanded(float[] qNope, float[] qRope, float[] cKv, float[] kRope, int n, float[] kvB, Dims d, float scale) {
        int H = d.heads(), dn = d.nope(), dr = d.rope(), dv = d.v(), r = d.rank(), rowsPerHead = dn + dv;
        double[] k = new double[n * H * dn], v = new double[n * H * dv];
        for (int j = 0; j < n; j++) {
            for (int h = 0; h < H; h++) {
                for (int o = 0; o < rowsPerHead; o++) {
                    double acc = 0;
                    int row = (h * rowsPerHead + o) * r;
                    for (int c = 0; c < r; c++) acc += kvB[row + c] * (double) cKv[j * r + c];
                    if (o < dn) k[(j * H + h) * dn + o] = acc;
                    else v[(j * H + h) * dv + o - dn] = acc;
                }
            }
        }
        float[] out = new float[H * dv];
        double[] s = new double[n];
        for (int h = 0; h < H; h++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int i = 0; i < dn; i++) dot += qNope[h * dn + i] * k[(j * H + h) * dn + i];
                for (int i = 0; i < dr; i++) dot += (double) qRope[h * dr + i] * kRope[j * dr + i];
                s[j] = scale * dot;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < n; j++) sum += s[j] = Math.exp(s[j] - max);
            for (int i = 0; i < dv; i++) {
                double o = 0;
                for (int j = 0; j < n; j++) o += s[j] / sum * v[(j * H + h) * dv + i];
                out[h * dv + i] = (float) o;
            }
        }
        return out;
    }

    /** One layer's compressed cache: up to {@code capacity} tokens of c_kv [rank] and k_rope [rope]. */
    public static final class Cache {
        final Dims dims;
        final float[] cKv, kRope;
        int length;

        public Cache(Dims d, int capacity) {
            dims = d;
            cKv = new float[capacity * d.rank()];
            kRope = new float[capacity * d.rope()];
        }

        public int length() {
            return length;
        }

        /** Floats held per token: kv_lora_rank + qk_rope_head_dim. */
        public int elementsPerToken() {
            return dims.rank() + dims.rope();
        }

        /** Floats held in total for the cached tokens. */
        public long elements() {
            return (long) length * elementsPerToken();
        }
    }

    static float[] matVec(Parameter w, float[] x) {
        int[] s = w.shape();
        float[] wd = w.data(), y = new float[s[0]];
        for (int o = 0; o < s[0]; o++) {
            double acc = 0;
            for (int c = 0; c < s[1]; c++) acc += (double) wd[o * s[1] + c] * x[c];
            y[o] = (float) acc;
        }
        return y;
    }

    static float[] rms(float[] x, int from, int len, Parameter w, float eps) {
        double ss = 0;
        for (int i = 0; i < len; i++) ss += (double) x[from + i] * x[from + i];
        double inv = 1 / Math.sqrt(ss / len + eps);
        float[] wd = w.data(), y = new float[len];
        for (int i = 0; i < len; i++) y[i] = (float) (x[from + i] * inv) * wd[i];
        return y;
    }

    /** RoPE at position {@code pos} of x[from, from + D) (de-interleaved first when the checkpoint interleaves), into out[at...]. */
    static void rope(float[] x, int from, int pos, RopeTables t, boolean interleave, float[] out, int at) {
        int D = t.headDim(), half = D / 2;
        float[] v = new float[D];
        for (int i = 0; i < D; i++) v[i] = interleave ? x[from + (i < half ? 2 * i : 2 * (i - half) + 1)] : x[from + i];
        float[] cos = t.cos(), sin = t.sin();
        for (int i = 0; i < half; i++) {
            float c = cos[pos * half + i], s = sin[pos * half + i];
            out[at + i] = v[i] * c - v[i + half] * s;
            out[at + i + half] = v[i + half] * c + v[i] * s;
        }
    }

    /**
     * One decode step of {@code attn} for the token whose normalised hidden state is {@code x} [C]
     * at position {@code pos}: appends its c_kv and roped k_rope to {@code cache}, attends over the
     * whole cache with the absorbed up-projections, and returns o_proj of the result [C].
     */
    static float[] step(MlaAttention attn, ModelConfig c, float[] x, int pos, RopeTables rope, Cache cache) {
        Dims d = Dims.of(c);
        DeepseekV3Params p = c.deepseek();
        float eps = (float) c.rmsEps();
        int H = d.heads(), dn = d.nope(), dr = d.rope(), qk = dn + dr, r = d.rank();
        float[] q = p.hasQLora() ? matVec(attn.qB, rms(matVec(attn.qA, x), 0, p.qLoraRank(), attn.qANorm, eps)) : matVec(attn.qProj, x);
        float[] qNope = new float[H * dn], qRope = new float[H * dr];
        for (int h = 0; h < H; h++) {
            System.arraycopy(q, h * qk, qNope, h * dn, dn);
            rope(q, h * qk + dn, pos, rope, p.ropeInterleave(), qRope, h * dr);
        }
        float[] ckv = matVec(attn.kvA, x);
        int n = cache.length;
        System.arraycopy(rms(ckv, 0, r, attn.kvANorm, eps), 0, cache.cKv, n * r, r);
        rope(ckv, r, pos, rope, p.ropeInterleave(), cache.kRope, n * dr);
        cache.length = n + 1;
        float[] o = attend(qNope, qRope, cache.cKv, cache.kRope, n + 1, attn.kvB.data(), d, attn.softmaxScale());
        return matVec(attn.oProj, o);
    }
}
