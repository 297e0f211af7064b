package io.r1kit.model.backend.device;

import io.r1kit.model.backend.Backend;

import java.util.function.Supplier;

/**
 * The host as a {@link DeviceBackend}: its arrays are the host tensors' own {@code float[]}
 * storage (wrapped, never copied) and its kernels those of a host {@link Backend}, looked up at
 * every call ({@code tensor.Backends.current()} for the tensors' host device, so switching to the
 * reference kernels applies to it). Ops are written once against {@code DeviceBackend}; on a host
 * tensor they run here and compute what the {@code Backend} kernels compute. Copies to and from
 * it are plain array copies and are not recorded ({@link #transfers()} stays empty).
 */
public final class HostDevice extends HostMemoryDevice {
    private final Transfers none = new Transfers();

    public HostDevice(Supplier<Backend> kernels) {
        super(kernels);
    }

    @Override public String name() { return "host"; }

    /** Always empty: the host does not copy to itself. */
    @Override public Transfers transfers() { return none; }

    @Override protected void transferred(Transfers.Direction direction, long bytes, String what) {}

    /** The double sum divided by n, rounded once (what the host's mean always computed). */
    @Override public void meanAll(DeviceArray out, DeviceArray x, long n) {
        float[] xs = values(x, "x");
        values(out, "out")[0] = (float) (kernels().sum(xs, 0, Math.toIntExact(n)) / n);
    }

    /** An array of this device over {@code values} (no copy): how a host tensor's storage is passed to the kernels. */
    public DeviceArray array(float[] values) {
        return wrap(values);
    }

    /** True when {@code a} is an array of this device. */
    public boolean owns(DeviceArray a) {
        return a instanceof HostArray h && h.owner == this;
    }

    /** The live values behind an F32 array of this device (no copy). */
    public float[] floats(DeviceArray a, String what) {
        return values(a, what);
    }
}
