package io.r1kit.model.tensor;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A named trainable leaf tensor: requires grad unless {@link #frozen(boolean) frozen}. The name (e.g.
 * {@code "model.layers.0.self_attn.q_proj.weight"}) keys checkpoints and optimizer state, so
 * names must be unique within a model.
 */
public final class Parameter extends Tensor {
    private final String name;
    private boolean readsBf16Copy;   // mixed precision: the forward's GEMMs read bf16Copy, not the fp32 master
    private DeviceStorage bf16Copy;  // bf16 rounding of the device values, or null
    private boolean bf16Current;     // bf16Copy == bf16(values): false after any write it did not follow
    private boolean frozen;          // requires no grad: ops compute no gradient for it (e.g. a LoRA base weight)

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

    /**
     * Parameters require grad unless frozen ({@link #frozen(boolean)}); to run a whole model without
     * recording, use {@code Grad.noGrad()}.
     */
    @Override
    public Tensor requiresGrad(boolean value) {
        if (value == frozen)
            throw new UnsupportedOperationException("Parameter " + name + (frozen ? " is frozen; frozen(false) first" : " requires grad unless frozen(true)"));
        return this;
    }

    /**
     * Freezes (true) or unfreezes the parameter. A frozen parameter requires no grad: ops record no
     * gradient for it and do no backward work for it, and its gradient is dropped; trainers leave it
     * out of the optimizer and of gradient clipping. Returns this.
     */
    public Parameter frozen(boolean on) {
        frozen = on;
        super.requiresGrad(!on);
        if (on) clearGrad();
        return this;
    }

    /** True when frozen (see {@link #frozen(boolean)}). */
    public boolean frozen() {
        return frozen;
    }

    /** Overwrites the values with {@code values} (same length), e.g. when loading weights (on a device: one upload). */
    public void copyFrom(float[] values) {
        if (values.length != numel())
            throw new IllegalArgumentException("parameter " + name + " " + Shape.str(shape()) + " expects "
                    + numel() + " values, got " + values.length);
        backend().write(deviceArray("copyFrom"), 0, values, 0, values.length, "parameter " + name);
        bf16Current = false;
    }

    /**
     * A copy of the values where they live (a host array copy, or a device-to-device copy: no
     * transfer), for {@link #restore}.
     */
    public Tensor snapshot() {
        return copy();
    }

    /** Puts back the values of a {@link #snapshot()} of this parameter, where they live (times 1, which is exact: no transfer). */
    public void restore(Tensor snapshot) {
        if (snapshot.numel() != numel() || snapshot.backend() != backend())
            throw new IllegalArgumentException("parameter " + name + " " + Shape.str(shape()) + ": cannot restore from " + snapshot
                    + ", which is not a snapshot of it");
        backend().scale(deviceArray("restore"), snapshot.deviceArray("restore"), 1f, numel());
        bf16CopyStale();
    }

    /**
     * Whether every value of every parameter is finite: one sum of squares over all of them where
     * the first parameter lives (in double, so no finite weight overflows it; NaN/Inf propagate),
     * from a device 8 bytes back.
     */
    public static boolean allFinite(List<Parameter> params) {
        DeviceBackend dev = params.isEmpty() ? Backends.HOST : params.get(0).backend();
        try (DeviceArray acc = dev.alloc(ElementType.F64, 1)) {
            boolean first = true;
            for (Parameter p : params) {
                dev.sumInto(p.deviceArray("finite check"), p.numel(), true, acc, !first);
                first = false;
            }
            return Double.isFinite(dev.readF64(acc, "weights finite check"));
        }
    }

    /**
     * Mixed precision (device parameters): when on, matmul / linear read this weight's bf16 copy
     * ({@link #bf16Copy()}) instead of the fp32 values, and AdamW keeps that copy current with the
     * fused mixed-precision update. The fp32 values stay the master weights. Returns this.
     */
    public Parameter readBf16Copy(boolean on) {
        if (on && !isOnDevice())
            throw new IllegalStateException("parameter " + name + ": a bf16 weight copy needs a device parameter (moveTo first)");
        readsBf16Copy = on;
        return this;
    }

    /** True when the forward's GEMMs read {@link #bf16Copy()} (see {@link #readBf16Copy}). */
    public boolean readsBf16Copy() {
        return readsBf16Copy && isOnDevice();
    }

    /**
     * The BF16 device storage holding bf16(values): the one AdamW's mixed step writes, or, when the
     * fp32 values changed since (a load, an fp32 step), a fresh cast on the device (no transfer).
     */
    public DeviceStorage bf16Copy() {
        if (!isOnDevice()) throw new IllegalStateException("parameter " + name + " lives on the host: no bf16 device copy");
        if (!bf16Current) {
            bf16Copy = new DeviceStorage(device(), device().castToBf16(deviceArray("bf16Copy"), 0, numel()));
            bf16Current = true;
        }
        return bf16Copy;
    }

    /**
     * For the optimizer's mixed-precision step, which writes bf16(updated values) into the returned
     * storage itself: allocated on first use, then marked current.
     */
    public DeviceStorage bf16CopyToOverwrite() {
        if (!isOnDevice()) throw new IllegalStateException("parameter " + name + " lives on the host: no bf16 device copy");
        if (bf16Copy == null) bf16Copy = DeviceStorage.zeros(device(), ElementType.BF16, numel());
        bf16Current = true;
        return bf16Copy;
    }

    /** Marks the bf16 copy stale: the fp32 values were changed by something that did not rewrite it. */
    public void bf16CopyStale() {
        bf16Current = false;
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
        bf16Copy = null;
        bf16Current = false;
        return this;
    }

    /** Moves the values back to the host in place (one device→host copy); the gradient is dropped. */
    public Parameter moveToHost() {
        if (isOnDevice()) replaceStorage(data(), null);
        bf16Copy = null;
        bf16Current = false;
        readsBf16Copy = false;
        return this;
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ")" + super.toString().substring("Parameter".length());
    }
}
