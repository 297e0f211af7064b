package io.r1kit.grpo.ppo;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.backend.device.DeviceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A learned value function for PPO: a transformer backbone (its own copy of the policy, or a
 * separate smaller model with the same tokenizer) and a scalar head {@code score.weight} [1, C]
 * on its final hidden states, as TRL's {@code AutoModelForSequenceClassification(num_labels=1)}.
 * The value at column {@code completionStart(b) + j} of a {@link Batch} estimates the return from
 * the state before completion token j, the same column where the policy scores token j.
 */
public final class ValueModel {
    private final CausalLM backbone;
    private final Parameter head;

    /** A fresh head, N(0, 1/sqrt(C + 1)) as TRL's value head init, seeded. */
    public ValueModel(CausalLM backbone, long seed) {
        this.backbone = backbone;
        int c = backbone.config().hiddenSize();
        this.head = Parameter.randn("score.weight", new SplittableRandom(seed), (float) (1.0 / Math.sqrt(c + 1)), 1, c);
    }

    public CausalLM backbone() {
        return backbone;
    }

    public Parameter head() {
        return head;
    }

    /** Backbone parameters, then the head (every name unique). */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(backbone.parameters());
        ps.add(head);
        return ps;
    }

    /** Moves backbone and head to {@code device} in place (one upload per parameter). */
    public ValueModel moveTo(DeviceBackend device) {
        backbone.moveTo(device);
        head.moveTo(device);
        return this;
    }

    /** Values [B, T] of every position (with grad when grad is on). */
    public Tensor values(Batch b) {
        Tensor h = backbone.forwardHidden(b.ids(), b.B(), b.T(), b.positions(), b.keyMask());   // [B, T, C]
        return F.reshape(F.linear(h, head), b.B(), b.T());
    }
}
