package io.r1kit.model.optim;

import io.r1kit.model.tensor.Parameter;

import java.util.List;

/**
 * Parameters sharing one weight-decay setting. Typical split: matrices with decay, norms /
 * biases / (optionally) embeddings with {@code weightDecay = 0}.
 */
public record ParamGroup(List<Parameter> params, float weightDecay) {
    public ParamGroup {
        params = List.copyOf(params);
        if (weightDecay < 0) throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
    }

    /**
     * The usual split: parameters of rank >= 2 (weight matrices, embeddings) decay with
     * {@code weightDecay}, rank-1 parameters (norm weights, biases) do not.
     */
    public static List<ParamGroup> decayMatricesOnly(List<Parameter> params, float weightDecay) {
        List<Parameter> decay = params.stream().filter(p -> p.rank() >= 2).toList();
        List<Parameter> noDecay = params.stream().filter(p -> p.rank() < 2).toList();
        return List.of(new ParamGroup(decay, weightDecay), new ParamGroup(noDecay, 0f));
    }
}
