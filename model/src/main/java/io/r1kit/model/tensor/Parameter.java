package io.r1kit.model.tensor;

import io.r1kit.model.backend.device.DeviceBackend;

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

    /** Overwrites the values with {@code values} (same length), e.g. when loading weights (on a device: one upload). */
    public void copyFrom(float[] values) {
        if (values.length != numel())
            throw new IllegalArgumentException("parameter " + name + " " + Shape.str(shape()) + " expects "
                    + numel() + " values, got " + values.length);
        if (isOnDevice()) device().write(deviceArray("copyFrom"), 0, values, 0, values.length, "parameter " + name);
        else System.arraycopy(values, 0, data(), 0, values.length);
    }

    /**
     * Moves the values to {@code device} IN PLACE (one host→device copy; the host array is
     * dropped, the gradient too), so models, optimizers and checkpoints keep this same object.
     * A no-op when already there; moving between two devices goes through {@link #moveToHost()}.
     */
    public Parameter moveTo(DeviceBackend device) {
        if (isOnDevice()) {
            if (device() == device) return this;
            throw new IllegalArgumentException("parameter " + name + " lives on " + device().name() + "; moveToHost() first");
        }
        float[] host = data();
        replaceStorage(null, new DeviceStorage(device, device.upload(host, 0, host.length, "parameter " + name)));
        return this;
    }

    /** Moves the values back to the host in place (one device→host copy); the gradient is dropped. */
    public Parameter moveToHost() {
        if (isOnDevice()) replaceStorage(data(), null);
        return this;
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ")" + super.toString().substring("Parameter".length());
    }
}
