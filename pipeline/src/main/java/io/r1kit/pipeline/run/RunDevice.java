package io.r1kit.pipeline.run;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.Devices;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Backends;

import java.util.function.Consumer;

/**
 * Where a run computes, chosen once from the config's (or the command line's) {@code device} and
 * {@code precision}: the host backend and, on a device, the device the models live on with their
 * precision. {@code Pipeline} and the CLI commands build it through {@link #select}; the stages get
 * it from their {@link RunContext} and move their models with {@link #place}.
 *
 * @param selection what {@link Devices#select} chose: the host backend and the device (null: none)
 * @param precision the models' precision on the device ({@code fp32} changes nothing)
 */
public record RunDevice(Devices.Selection selection, Precision precision) {

    /** The host, fp32: what a run has before a device is selected (validation, tests). */
    public static final RunDevice HOST = new RunDevice(Devices.select("cpu", line -> { }), Precision.FP32);

    public RunDevice {
        if (precision == Precision.BF16 && selection.resident() == null) {
            throw new IllegalArgumentException("precision bf16 needs the models on a device (cuda, cuda:N or emulated), not '"
                    + selection.device() + "'");
        }
    }

    /**
     * Selects the device: {@code auto} falls back to the CPU after one {@code log} line saying why; an
     * explicit device that cannot run, a bad spec, or bf16 without a device is an IllegalArgumentException
     * or IllegalStateException naming the reason, before any work.
     */
    public static RunDevice select(String device, String precision, Consumer<String> log) {
        return new RunDevice(Devices.select(device, log), Precision.parse(precision));
    }

    /** The backend of host tensors. */
    public Backend hostBackend() {
        return selection.backend();
    }

    /** The device the models live on, or null when they stay on the host. */
    public DeviceBackend resident() {
        return selection.resident();
    }

    /**
     * {@code m} moved to the device in the run's precision (one upload per parameter), or {@code m} on the
     * host (with the FP8 training emulation when the precision is {@code fp8} / {@code fp8_tensor}).
     */
    public CausalLM place(CausalLM m) {
        if (resident() == null) return precision.fp8Recipe() == null ? m : m.precision(precision); // fp8: the CPU emulation of V3's FP8 GEMMs
        return m.moveTo(resident()).precision(precision);
    }

    /**
     * Makes {@link #hostBackend()} the backend of host ops until the scope is closed. Host kernels find
     * their backend through {@link Backends#current()}, so this is the one process-wide setting a run makes.
     */
    public Backends.Scope activate() {
        return Backends.use(hostBackend());
    }

    /** One line for the run log. */
    public String describe() {
        return selection.device() + " (backend " + hostBackend().name()
                + (resident() == null ? "" : ", models on device-resident tensors of " + resident().name())
                + (precision == Precision.BF16 ? ", precision bf16" : "") + ")";
    }
}
