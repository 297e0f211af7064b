package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Multi-head latent attention, exactly transformers' DeepseekV3Attention:
 * <pre>
 *   q          = q_b_proj(rms(q_a_proj(x)))  (or q_proj(x) when q_lora_rank is null)  → [B, T, H, nope + rope]
 *   c_kv, k_r  = split(kv_a_proj_with_mqa(x), [kv_lora_rank, rope])   (k_r: one RoPE key shared by all heads)
 *   k_nope, v  = split(kv_b_proj(rms(c_kv)), [nope, v_head_dim])     per head
 *   out        = o_proj(softmax(scale · [q_nope, rope(q_r)] · [k_nope, rope(k_r)]ᵀ) · v)
 * </pre>
 * With {@code rope_interleave} the RoPE parts are first de-interleaved (pairs (2i, 2i+1) → (i, i + d/2)),
 * as apply_rotary_pos_emb_interleave does. The value head is zero-padded to the query/key width (or
 * q and k to the value width) so the one attention kernel serves both; zero columns change neither
 * scores nor outputs, and the padded output columns are dropped.
 * Built from differentiable ops only, so training and the device path come with them. In bf16
 * precision (a device model) the five projections read their weights' bf16 copies and the inputs
 * only they read (the normalised x, the normalised q and kv latents) are stored in bf16; the
 * attention output stays fp32 (attention's backward reads it), as in {@link DecoderLayer}.
 */
final class MlaAttention {
    private final DeepseekV3Params d;
    private final int H;
    private final float eps, scale;
    final Parameter qProj, qA, qANorm, qB, kvA, kvANorm, kvB, oProj;
    private final List<Parameter> params = new ArrayList<>();
    private boolean bf16;

    MlaAttention(ModelConfig c, String prefix, RandomGenerator rng, float std) {
        this.d = c.deepseek();
        this.H = c.numHeads();
        this.eps = (float) c.rmsEps();
        this.scale = (float) YarnRope.softmaxScale(d.qkHeadDim(), c.yarn());
        int C = c.hiddenSize();
        if (d.hasQLora()) {
            qProj = null;
            qA = add(DecoderLayer.mat(prefix + "q_a_proj.weight", rng, std, d.qLoraRank(), C));
            qANorm = add(DecoderLayer.ones(prefix + "q_a_layernorm.weight", d.qLoraRank()));
            qB = add(DecoderLayer.mat(prefix + "q_b_proj.weight", rng, std, H * d.qkHeadDim(), d.qLoraRank()));
        } else {
            qProj = add(DecoderLayer.mat(prefix + "q_proj.weight", rng, std, H * d.qkHeadDim(), C));
            qA = qANorm = qB = null;
        }
        kvA = add(DecoderLayer.mat(prefix + "kv_a_proj_with_mqa.weight", rng, std, d.kvLoraRank() + d.qkRopeHeadDim(), C));
        kvANorm = add(DecoderLayer.ones(prefix + "kv_a_layernorm.weight", d.kvLoraRank()));
        kvB = add(DecoderLayer.mat(prefix + "kv_b_proj.weight", rng, std, H * (d.qkNopeHeadDim() + d.vHeadDim()), d.kvLoraRank()));
        oProj = add(DecoderLayer.mat(prefix + "o_proj.weight", rng, std, C, H * d.vHeadDim()));
    }

    private Parameter add(Parameter p) {
        params.add(p);
        return p;
    }

    List<Parameter> parameters() {
        return params;
    }

    /** The projection weights (not the norms), which read bf16 copies in bf16 precision. */
    List<Parameter> projections() {
        List<Parameter> ps = new ArrayList<>();
        for (Parameter p : new Parameter[] {qProj, qA, qB, kvA, kvB, oProj}) if (p != null) ps.add(p);
        return ps;
    }

    void bf16(boolean on) {
        bf16 = on;
        for (Parameter p : projections()) p.readBf16Copy(on);
    }

    private Tensor gemmInput(Tensor t) {
        return SwiGluMlp.gemmInput(t, bf16);
    }

    float softmaxScale() {
        return scale;
    }

    /** The query [B, T, H, nope + rope] before RoPE. */
    Tensor query(Tensor x, int B, int T) {
        Tensor q = d.hasQLora() ? F.linear(gemmInput(F.rmsNorm(F.linear(x, qA), qANorm, eps)), qB) : F.linear(x, qProj);
        return F.reshape(q, B, T, H, d.qkHeadDim());
    }

    /** (pairs (2i, 2i+1) → (i, i + d/2)) of x [..., r]: apply_rotary_pos_emb_interleave's view/transpose/reshape. */
    static Tensor deinterleave(Tensor x) {
        int[] s = x.shape();
        int r = s[s.length - 1], rows = x.numel() / r;
        // leading dims flattened, so the transpose is rank 3 (the device's strided kernels go up to rank 4)
        return F.reshape(F.transpose(F.reshape(x, rows, r / 2, 2), 1, 2), s);
    }

    /** The RoPE part x [..., H', rope] rotated (after de-interleaving when the checkpoint stores pairs interleaved). */
    Tensor rope(Tensor x, int[] pos, RopeTables rope) {
        return F.rope(d.ropeInterleave() ? deinterleave(x) : x, pos, rope);
    }

    /** x [B, T, C] (normalised) → [B, T, C]. */
    Tensor forward(Tensor x, int B, int T, int[] pos, byte[] keyMask, RopeTables rope) {
        int dn = d.qkNopeHeadDim(), dr = d.qkRopeHeadDim(), dv = d.vHeadDim(), qk = d.qkHeadDim(), r = d.kvLoraRank();
        x = gemmInput(x);                                                    // read by the q and kv_a projections only
        Tensor q = query(x, B, T);
        Tensor qPass = F.slice(q, 3, 0, dn), qRot = rope(F.slice(q, 3, dn, qk), pos, rope);
        Tensor ckv = F.linear(x, kvA);
        Tensor kRot = rope(F.reshape(F.slice(ckv, 2, r, r + dr), B, T, 1, dr), pos, rope);
        Tensor kv = F.reshape(F.linear(gemmInput(F.rmsNorm(F.slice(ckv, 2, 0, r), kvANorm, eps)), kvB), B, T, H, dn + dv);
        Tensor kNope = F.slice(kv, 3, 0, dn), v = F.slice(kv, 3, dn, dn + dv);
        Tensor query = F.concat(List.of(qPass, qRot), 3);
        Tensor key = F.concat(List.of(kNope, F.concat(Collections.nCopies(H, kRot), 2)), 3);
        int width = Math.max(qk, dv);
        if (dv < width) v = F.concat(List.of(v, zerosLike(v, B, T, width - dv)), 3);
        if (qk < width) {
            query = F.concat(List.of(query, zerosLike(query, B, T, width - qk)), 3);
            key = F.concat(List.of(key, zerosLike(key, B, T, width - qk)), 3);
        }
        Tensor a = F.attention(query, key, v, keyMask, 0, scale);
        if (dv < width) a = F.slice(a, 3, 0, dv);
        return F.linear(F.reshape(a, B, T, H * dv), oProj);
    }

    private Tensor zerosLike(Tensor like, int B, int T, int n) {
        return like.newZeros(B, T, H, n);
    }
}
