package io.r1kit.model.tensor;

import java.util.random.RandomGenerator;

/**
 * A named trainable leaf tensor: always requires grad. The name (e.g.
 * {@code "model.layers.0.self_attn.q_proj.weight"}) keys checkpoints and optimizer state, so
 * names must be unique within a model.
 */
public final class Parameter extends Tensor {
    private final String name;

    /** A parameter over {@code data} (no copy). */
    public Parameter(String name, float[] data, int... shape) {
        super(data, shape);
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("parameter name must not be empty");
        this.name = name;
        super.requiresGrad(true);
    }

    /** A parameter initialised with a copy of {@code init}'s values. */
    public Parameter(String name, Tensor init) {
        this(name, init.toArray(), init.shape());
    }

    /** A zero-initialised parameter. */
    public static Parameter zeros(String name, int... shape) {
        return new Parameter(name, new float[Shape.numel(shape)], shape);
    }

    /** A parameter of normal(0, std) values from {@code rng}. */
    public static Parameter randn(String name, RandomGenerator rng, float std, int... shape) {
        return new Parameter(name, Tensor.randn(rng, std, shape));
    }

    public String name() {
        return name;
    }

    /** Parameters always require grad; freeze a model by running it under {@code Grad.noGrad()}. */
    @Override
    public Tensor requiresGrad(boolean value) {
        if (!value) throw new UnsupportedOperationException("Parameter " + name + " always requires grad");
        return this;
    }

    /** Overwrites the values with {@code values} (same length), e.g. when loading weights. */
    public void copyFrom(float[] values) {
        if (values.length != numel())
            throw new IllegalArgumentException("parameter " + name + " " + Shape.str(shape()) + " expects "
                    + numel() + " values, got " + values.length);
        System.arraycopy(values, 0, data(), 0, values.length);
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ")" + super.toString().substring("Parameter".length());
    }
}
