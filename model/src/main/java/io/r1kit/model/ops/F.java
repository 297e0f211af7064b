package io.r1kit.model.ops;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.UnaryOp;
import io.r1kit.model.fp8.Fp8Recipe;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.List;

/**
 * The functional op facade (like torch.nn.functional): every differentiable op r1kit has, as a
 * static method. Each op computes its forward on the current backend
 * ({@link io.r1kit.model.tensor.Backends}) and, when recording is on and an input requires grad,
 * records a node whose backward accumulates into every input that requires grad.
 *
 * <p>Conventions: shapes are row-major {@code int[]}; "[..., C]" means any leading dims;
 * dims may be negative (-1 = last); ops never modify their inputs; errors name the op and shapes.
 * Masks are float tensors (nonzero = keep) and are treated as constants (no gradient).
 */
public final class F {
    private F() {}

    // ------------------------------------------------------------------ matmul

    /** a [..., M, K] · b [..., K, N] (b may be 2-D: broadcast over a's batch, folded into one GEMM). */
    public static Tensor matmul(Tensor a, Tensor b) {
        return MatMul.matmul(a, b, false, false);
    }

    /**
     * op(a) · op(b) where op transposes the last two dims of the STORED operand (no copy):
     * a stored [..., K, M] when transA, b stored [..., N, K] when transB.
     */
    public static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        return MatMul.matmul(a, b, transA, transB);
    }

    /** Linear layer without bias: x [..., K] · wᵀ with w [N, K] (torch layout) → [..., N]; one GEMM. */
    public static Tensor linear(Tensor x, Tensor w) {
        if (x.rank() == 1) return reshape(MatMul.matmul(reshape(x, 1, -1), w, false, true), w.dim(0));
        return MatMul.matmul(x, w, false, true);
    }

    /**
     * Linear layer trained in FP8 (host tensors): x [..., K] · wᵀ with every GEMM of forward and
     * backward on FP8-quantised operands, FP32 accumulation per 128-wide chunk (see {@code Fp8Gemm}).
     */
    public static Tensor linearFp8(Tensor x, Tensor w, Fp8Recipe recipe) {
        return Fp8Linear.linear(x, w, recipe);
    }

    /** Bytes of FP8 codes and scales that {@link #linearFp8} nodes saved for backward since the last reset (a running total). */
    public static long fp8SavedBytes() {
        return Fp8Linear.savedBytes();
    }

    /** Resets {@link #fp8SavedBytes()}. */
    public static void resetFp8SavedBytes() {
        Fp8Linear.resetSavedBytes();
    }

    /** Linear layer: x [..., K] · wᵀ + bias, w [N, K], bias [N]. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return add(linear(x, w), bias);
    }

    // ------------------------------------------------------------------ broadcasting binary

    /** a + b (numpy broadcasting). */
    public static Tensor add(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.ADD, a, b); }

    /** a - b (numpy broadcasting). */
    public static Tensor sub(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.SUB, a, b); }

    /** a * b (numpy broadcasting). */
    public static Tensor mul(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.MUL, a, b); }

    /** a / b (numpy broadcasting). */
    public static Tensor div(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.DIV, a, b); }

    /** Elementwise min (broadcasting); on ties each operand gets half the gradient (as torch). */
    public static Tensor minimum(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.MIN, a, b); }

    /** Elementwise max (broadcasting); on ties each operand gets half the gradient (as torch). */
    public static Tensor maximum(Tensor a, Tensor b) { return Broadcast.apply(BinaryOp.MAX, a, b); }

    /** cond != 0 ? a : b, broadcasting all three; cond gets no gradient. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) { return Broadcast.where(cond, a, b); }

    // ------------------------------------------------------------------ unary

    /** s * x. */
    public static Tensor scale(Tensor x, float s) { return Pointwise.apply(UnaryOp.SCALE, x, s, 0); }

    /** x + s. */
    public static Tensor addScalar(Tensor x, float s) { return Pointwise.apply(UnaryOp.ADD_SCALAR, x, s, 0); }

    public static Tensor neg(Tensor x) { return Pointwise.apply(UnaryOp.NEG, x, 0, 0); }

    public static Tensor exp(Tensor x) { return Pointwise.apply(UnaryOp.EXP, x, 0, 0); }

    /** Natural log (x <= 0 gives -inf/NaN, as in torch). */
    public static Tensor log(Tensor x) { return Pointwise.apply(UnaryOp.LOG, x, 0, 0); }

    public static Tensor sqrt(Tensor x) { return Pointwise.apply(UnaryOp.SQRT, x, 0, 0); }

    /** x^p for a scalar exponent. */
    public static Tensor pow(Tensor x, float p) { return Pointwise.apply(UnaryOp.POW, x, p, 0); }

    public static Tensor sigmoid(Tensor x) { return Pointwise.apply(UnaryOp.SIGMOID, x, 0, 0); }

    /** log σ(x), computed stably (Bradley-Terry reward-model and DPO losses: -logSigmoid(r_c - r_r)). */
    public static Tensor logSigmoid(Tensor x) { return Pointwise.apply(UnaryOp.LOG_SIGMOID, x, 0, 0); }

    /** |x| (gradient sign(x), 0 at 0 as torch). */
    public static Tensor abs(Tensor x) { return Pointwise.apply(UnaryOp.ABS, x, 0, 0); }

    /** 1 where x &lt; threshold, else 0 (no gradient): counting on a device without reading x back. */
    public static Tensor lessThan(Tensor x, float threshold) { return Pointwise.apply(UnaryOp.LESS_THAN, x, threshold, 0); }

    /** 1 where x &gt; threshold, else 0 (no gradient). */
    public static Tensor greaterThan(Tensor x, float threshold) { return Pointwise.apply(UnaryOp.GREATER_THAN, x, threshold, 0); }

    /**
     * min(max(x, lo), hi); use {@code Float.NEGATIVE_INFINITY} / {@code POSITIVE_INFINITY} for
     * a one-sided clamp. The gradient flows where lo <= x <= hi (inclusive, as torch).
     */
    public static Tensor clamp(Tensor x, float lo, float hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " > max " + hi);
        return Pointwise.apply(UnaryOp.CLAMP, x, lo, hi);
    }

    // ------------------------------------------------------------------ reductions

    /** Sum of all elements (0-d tensor). */
    public static Tensor sum(Tensor x) { return Reductions.sumAll(x, false); }

    /** Mean of all elements (0-d tensor). */
    public static Tensor mean(Tensor x) { return Reductions.sumAll(x, true); }

    /** Sum over {@code dim}; keepDim keeps it as size 1. */
    public static Tensor sum(Tensor x, int dim, boolean keepDim) { return Reductions.sumDim(x, dim, keepDim, false); }

    /** Mean over {@code dim}; keepDim keeps it as size 1. */
    public static Tensor mean(Tensor x, int dim, boolean keepDim) { return Reductions.sumDim(x, dim, keepDim, true); }

    /** sum(x · mask) over all elements (0-d); mask has x's shape. */
    public static Tensor maskedSum(Tensor x, Tensor mask) { return Reductions.maskedAll(x, mask, false); }

    /** sum(x · mask) / sum(mask) over all elements (0-d); 0 when the mask is all zero. */
    public static Tensor maskedMean(Tensor x, Tensor mask) { return Reductions.maskedAll(x, mask, true); }

    /** Per-row sum(x · mask) over {@code dim} (dim removed). */
    public static Tensor maskedSum(Tensor x, Tensor mask, int dim) { return Reductions.maskedDim(x, mask, dim, false); }

    /**
     * Per-row masked mean over {@code dim} (dim removed): for x [B, T] and dim = 1, the masked
     * token mean of each sequence → [B]. A row whose mask is all zero gives 0.
     */
    public static Tensor maskedMean(Tensor x, Tensor mask, int dim) { return Reductions.maskedDim(x, mask, dim, true); }

    // ------------------------------------------------------------------ shape

    /** Same storage, new shape (one dim may be -1). Free: no copy. */
    public static Tensor reshape(Tensor x, int... shape) { return ShapeOps.reshape(x, shape); }

    /** Swaps two dims (materialised copy). */
    public static Tensor transpose(Tensor x, int dim0, int dim1) { return ShapeOps.transpose(x, dim0, dim1); }

    /** x[..., start:end, ...] along {@code dim} (copy). */
    public static Tensor slice(Tensor x, int dim, int start, int end) { return ShapeOps.slice(x, dim, start, end); }

    /** Joins tensors along {@code dim}. */
    public static Tensor concat(List<Tensor> xs, int dim) { return ShapeOps.concat(xs, dim); }

    /** Rows of x along dim 0: x [R, ...] → [rows.length, ...]. */
    public static Tensor indexSelect(Tensor x, int[] rows) {
        return ShapeOps.indexSelect("indexSelect", x, rows, new int[] {rows.length}, false);
    }

    /**
     * Embedding lookup: table [V, C], ids laid out as {@code idsShape} (e.g. [B, T]) → [..idsShape, C].
     * The gradient is a scatter-add into the touched rows only; for a leaf table the touched rows
     * are recorded so zeroGrad clears just them.
     */
    public static Tensor embedding(Tensor table, int[] ids, int... idsShape) {
        if (table.rank() != 2) throw new IllegalArgumentException("embedding: table must be [V, C], got " + Shape.str(table.shape()));
        return ShapeOps.indexSelect("embedding", table, ids, idsShape.length == 0 ? new int[] {ids.length} : idsShape, true);
    }

    // ------------------------------------------------------------------ transformer blocks

    /** RMSNorm over the last dim: x / sqrt(mean(x²) + eps) * w, w [C]. */
    public static Tensor rmsNorm(Tensor x, Tensor w, float eps) { return NormOps.rmsNorm(x, w, eps); }

    /**
     * Rotary embedding (HF "rotate half") of x [..., H, D]; row r (product of leading dims, e.g.
     * b·T + t for [B, T, H, D]) is at absolute position pos[r]. cos, sin: [maxPos, D/2] tables.
     */
    public static Tensor rope(Tensor x, int[] pos, float[] cos, float[] sin) { return NormOps.rope(x, pos, cos, sin); }

    /** {@link #rope(Tensor, int[], float[], float[])} with the tables of a {@link RopeTables} (its head dim must be x's). */
    public static Tensor rope(Tensor x, int[] pos, RopeTables tables) {
        if (tables.headDim() != x.dim(-1))
            throw new IllegalArgumentException("rope: tables built for head dim " + tables.headDim() + ", x " + Shape.str(x.shape()));
        return NormOps.rope(x, pos, tables.cos(), tables.sin());
    }

    /** Positions 0..T-1 for every batch row, i.e. [B·T] with pos[b·T + t] = t (no padding offsets). */
    public static int[] positions(int B, int T) {
        int[] p = new int[B * T];
        for (int i = 0; i < p.length; i++) p[i] = i % T;
        return p;
    }

    /** silu(a) * b (the SwiGLU MLP gate), equal shapes. */
    public static Tensor swiglu(Tensor a, Tensor b) { return NormOps.swiglu(a, b); }

    /**
     * Causal grouped-query attention, flash-style (no [T, T] matrix).
     * q [B, Tq, Hq, D], k, v [B, Tk, Hkv, D] → [B, Tq, Hq, D]. Query t sits at key position
     * qStart + t and sees keys j <= qStart + t whose keyMask[b·Tk + j] != 0 (null = all real).
     * scale is usually 1/sqrt(D).
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, byte[] keyMask, int qStart, float scale) {
        return AttentionOp.attention(q, k, v, keyMask, qStart, scale);
    }

    /** Causal self-attention (Tq = Tk, qStart 0, scale 1/sqrt(D)) with an optional key mask. */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, byte[] keyMask) {
        return AttentionOp.attention(q, k, v, keyMask, k.dim(1) - q.dim(1), (float) (1.0 / Math.sqrt(q.dim(3))));
    }

    /** A [B, T] float mask (nonzero = real token) as the byte[] key mask attention takes. */
    public static byte[] keyMask(Tensor mask) {
        OnDevice.requireHost("keyMask", mask);
        float[] m = mask.data();
        byte[] b = new byte[m.length];
        for (int i = 0; i < m.length; i++) b[i] = (byte) (m[i] != 0f ? 1 : 0);
        return b;
    }

    // ------------------------------------------------------------------ softmax family and losses

    /** Softmax over the last dim. */
    public static Tensor softmax(Tensor x) { return SoftmaxOps.softmax(x, false); }

    /** Log-softmax over the last dim. */
    public static Tensor logSoftmax(Tensor x) { return SoftmaxOps.softmax(x, true); }

    /**
     * Fused log p(target) per row: logits [..., V], one target per row → [...]. Never
     * materialises a second [N, V] tensor. A negative target gives 0 and no gradient.
     */
    public static Tensor tokenLogProbs(Tensor logits, int[] targets) { return SoftmaxOps.tokenLogProbs(logits, targets); }

    /**
     * Fused lm-head + token log-prob: equals {@code tokenLogProbs(linear(h, w), targets)} but never
     * holds the [N, V] logits, and computes nothing for rows with a negative target (prompt,
     * padding). h [..., C], w [V, C] (lm_head or tied embedding) → [...]. The memory-lean way to get
     * the policy log-probs in GRPO/SFT with a large vocabulary; costs one extra lm-head GEMM in backward.
     */
    public static Tensor linearTokenLogProbs(Tensor h, Tensor w, int[] targets) {
        return FusedLmHead.apply(h, w, targets, 0, false);
    }

    /** {@link #linearTokenLogProbs(Tensor, Tensor, int[])} with an explicit number of rows per chunk. */
    public static Tensor linearTokenLogProbs(Tensor h, Tensor w, int[] targets, int chunkRows) {
        return FusedLmHead.apply(h, w, targets, chunkRows, false);
    }

    /** Log-probs under softmax(h·Wᵀ / temperature) (chunkRows 0 = the default chunk). */
    public static Tensor linearTokenLogProbs(Tensor h, Tensor w, int[] targets, int chunkRows, float temperature) {
        return FusedLmHead.apply(h, w, targets, chunkRows, false, temperature);
    }

    /**
     * Fused lm-head + entropy: equals {@code entropy(linear(h, w))} on rows whose {@code rowTargets}
     * entry is >= 0 and 0 on the others, without materialising [N, V] logits (same chunking as
     * {@link #linearTokenLogProbs}). Pass the token targets to get the entropy of completion tokens only.
     */
    public static Tensor linearEntropy(Tensor h, Tensor w, int[] rowTargets) {
        return FusedLmHead.apply(h, w, rowTargets, 0, true);
    }

    /** {@link #linearEntropy(Tensor, Tensor, int[])} with an explicit number of rows per chunk. */
    public static Tensor linearEntropy(Tensor h, Tensor w, int[] rowTargets, int chunkRows) {
        return FusedLmHead.apply(h, w, rowTargets, chunkRows, true);
    }

    /** Entropy of softmax(h·Wᵀ / temperature) (chunkRows 0 = the default chunk). */
    public static Tensor linearEntropy(Tensor h, Tensor w, int[] rowTargets, int chunkRows, float temperature) {
        return FusedLmHead.apply(h, w, rowTargets, chunkRows, true, temperature);
    }

    /** Entropy of softmax(logits) per row: [..., V] → [...] (fused, no [N, V] output). */
    public static Tensor entropy(Tensor logits) { return SoftmaxOps.entropy(logits); }

    /** Mean cross-entropy over rows whose target is >= 0 (negative = ignored; all ignored → 0). */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        // two forms with different rounding (host: masked mean in double; device: a float sum times -1/valid), kept apart so neither's numbers move
        if (logits.isOnDevice()) {
            // ignored rows score exactly 0, so the masked mean is the plain sum over the count of
            // valid targets (known on the host): no mask needs to cross to the device
            int valid = 0;
            for (int t : targets) if (t >= 0) valid++;
            return scale(sum(tokenLogProbs(logits, targets)), valid == 0 ? 0f : -1f / valid);
        }
        float[] m = new float[targets.length];
        for (int i = 0; i < m.length; i++) m[i] = targets[i] >= 0 ? 1f : 0f;
        Tensor lp = tokenLogProbs(logits, targets);
        return neg(maskedMean(lp, Tensor.wrap(m, lp.shape())));
    }

    /**
     * Cross-entropy averaged with a float mask of the rows' shape: -sum(logp · mask)/sum(mask)
     * (a negative target is also ignored).
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets, Tensor mask) {
        Tensor lp = tokenLogProbs(logits, targets);
        return neg(maskedMean(lp, mask));
    }
}
