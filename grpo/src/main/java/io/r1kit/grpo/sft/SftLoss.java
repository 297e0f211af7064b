package io.r1kit.grpo.sft;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.ops.F;
import io.r1kit.model.ops.HostSums;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.autograd.Grad;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The SFT / causal-LM loss: {@code −Σ log p(target) / N} over the loss tokens of a whole optimizer
 * step, N = the step's loss-token count. A step is run as several forward passes
 * ({@link #chunks}); each contributes its own sum divided by the same N, so the accumulated gradient
 * is exactly the gradient of the step's mean (no bias toward short micro-batches).
 *
 * <p>Every example is its own row of a {@code [B, T]} batch: positions start at 0 in every row and
 * padding is masked, so no example attends to another (r1kit's attention kernel takes a key mask
 * plus the causal mask, not a block-diagonal one; see {@link SftTrainer}). Rows in one pass are of
 * similar length ({@link #chunks} sorts them), so little compute goes to padding.
 */
public final class SftLoss {
    private SftLoss() {}

    /**
     * Fixed cost of one forward+backward pass in token equivalents (weight packing, thread hand-offs
     * of ~30 ops); it keeps {@link #chunks} from splitting a step into many tiny passes.
     */
    static final int PASS_OVERHEAD_TOKENS = 64;

    /**
     * The step's examples as forward passes of at most {@code tokenBudget} padded tokens (rows ×
     * longest row; a single longer row is its own pass). Rows are sorted by length (longest first,
     * ties in step order) and cut into contiguous passes minimising Σ (rows × longest row +
     * {@link #PASS_OVERHEAD_TOKENS}) by dynamic programming: on the toy corpus this brings the padding
     * overhead from ~38% (greedy filling) to a few %.
     */
    public static List<List<EncodedExample>> chunks(List<EncodedExample> examples, int tokenBudget) {
        List<EncodedExample> sorted = new ArrayList<>(examples);
        sorted.sort(Comparator.comparingInt(EncodedExample::length).reversed());   // stable: ties keep step order
        int n = sorted.size();
        long[] cost = new long[n + 1];
        int[] from = new int[n + 1];
        for (int i = 1; i <= n; i++) {
            cost[i] = Long.MAX_VALUE;
            // pass = rows [j, i): its longest row is sorted[j]; rows × T grows as j moves left
            for (int j = i - 1; j >= 0; j--) {
                long padded = (long) (i - j) * sorted.get(j).length();
                if (padded > tokenBudget && i - j > 1) break;
                long c = cost[j] + padded + PASS_OVERHEAD_TOKENS;
                if (c < cost[i]) {
                    cost[i] = c;
                    from[i] = j;
                }
            }
        }
        List<List<EncodedExample>> out = new ArrayList<>();
        for (int i = n; i > 0; i = from[i]) out.add(0, new ArrayList<>(sorted.subList(from[i], i)));
        return out;
    }

    /** A right-padded batch: row b = example b, targets at its loss tokens only (−1 elsewhere). */
    public static Batch batch(List<EncodedExample> rows) {
        List<int[]> ctx = new ArrayList<>(rows.size()), tgt = new ArrayList<>(rows.size());
        for (EncodedExample e : rows) {
            ctx.add(e.context());
            tgt.add(e.targets());
        }
        return Batch.of(ctx, tgt);
    }

    /**
     * {@code −Σ log p(targets) / normalizer} of one forward pass through the fused lm_head + log-softmax
     * (never materialises [B, T, V]; prompt and padding positions have target −1: no loss, no gradient).
     */
    public static Tensor loss(CausalLM model, Batch batch, double normalizer) {
        Tensor lp = model.scoreTokens(batch, 1f, false).logprobs();   // [B, T], 0 where target < 0
        return F.scale(F.sum(lp), (float) (-1.0 / normalizer));
    }

    /**
     * {@link #loss} plus, for a DeepSeek-V3 model, λ/D · Σ_d −Σ log p_d(target) / normalizer over its D
     * MTP modules (same normaliser as the main loss, so λ weighs them against it) and the MoE layers'
     * sequence-wise balance loss (aux_loss_alpha &gt; 0) scaled by {@code rowShare}, this pass's share
     * of the step's rows. Equal to {@link #loss} for every other model or with λ = 0.
     */
    public static Tensor loss(CausalLM model, Batch batch, double normalizer, double mtpLossWeight, double rowShare) {
        Tensor total;
        if (model.mtpModules().isEmpty() || mtpLossWeight == 0) {
            total = loss(model, batch, normalizer);
        } else {
            CausalLM.MtpScores s = model.scoreTokensWithMtp(batch);
            total = F.scale(F.sum(s.main().logprobs()), (float) (-1.0 / normalizer));
            int D = s.mtpLogprobs().size();
            for (Tensor lp : s.mtpLogprobs()) total = F.add(total, F.scale(F.sum(lp), (float) (-mtpLossWeight / D / normalizer)));
        }
        Tensor aux = model.takeMoeAuxLoss();
        return aux == null ? total : F.add(total, F.scale(aux, (float) rowShare));
    }

    /**
     * The same loss from materialised logits [B, T, V] (for small vocabularies and for tests that
     * look at the gradient w.r.t. the logits).
     */
    public static Tensor lossFromLogits(Tensor logits, int[] targets, double normalizer) {
        Tensor lp = F.tokenLogProbs(logits, targets);
        return F.scale(F.sum(lp), (float) (-1.0 / normalizer));
    }

    /** Loss tokens of the examples. */
    public static long lossTokens(List<EncodedExample> examples) {
        long n = 0;
        for (EncodedExample e : examples) n += e.lossTokens();
        return n;
    }

    /** All tokens of the examples. */
    public static long tokens(List<EncodedExample> examples) {
        long n = 0;
        for (EncodedExample e : examples) n += e.length();
        return n;
    }

    /** Per-row sum of −log p over the loss tokens (no gradient needed; for eval and tests). */
    public static double[] rowLosses(CausalLM model, Batch batch) {
        try (var ng = Grad.noGrad()) {
            // on a device one row sum per example comes back, not the [B, T] log-probs
            return HostSums.negatedRowSums(model.scoreTokens(batch, 1f, false).logprobs());
        }
    }

    static int[] lengths(List<EncodedExample> ex) {
        int[] l = new int[ex.size()];
        for (int i = 0; i < l.length; i++) l[i] = ex.get(i).length();
        return l;
    }

    static List<EncodedExample> select(List<EncodedExample> all, int[] idx) {
        List<EncodedExample> out = new ArrayList<>(idx.length);
        for (int i : idx) out.add(all.get(i));
        return out;
    }

    /** Padded tokens (Σ rows × longest row over the forward passes) of running {@code examples} as one step. */
    static long paddedTokens(List<EncodedExample> examples, int tokenBudget) {
        long n = 0;
        for (List<EncodedExample> c : chunks(examples, tokenBudget)) n += (long) c.size() * c.get(0).length();
        return n;
    }
}
