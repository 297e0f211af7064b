package io.r1kit.model.tensor;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.CpuBackend;
import io.r1kit.model.backend.device.HostDevice;

/**
 * The current compute backend every op dispatches to. One global setting (not per thread): the
 * default is {@link CpuBackend#INSTANCE}; tests switch to {@code ReferenceBackend.INSTANCE} with
 * {@code try (var b = Backends.use(ReferenceBackend.INSTANCE)) {...}}. Do not switch while ops
 * run on other threads.
 */
public final class Backends {
    private static volatile Backend current = CpuBackend.INSTANCE;

    /**
     * The host as a device: where host tensors' ops run, on the current backend's kernels
     * ({@link Tensor#backend()} of every host tensor).
     */
    public static final HostDevice HOST = new HostDevice(Backends::current);

    private Backends() {}

    public static Backend current() {
        return current;
    }

    /** Sets the current backend permanently. */
    public static void set(Backend backend) {
        if (backend == null) throw new IllegalArgumentException("backend must not be null");
        current = backend;
    }

    /** Switches to {@code backend} until the returned scope is closed (then the previous one is restored). */
    public static Scope use(Backend backend) {
        Backend prev = current;
        set(backend);
        return new Scope(prev);
    }

    /** Restores the previous backend on close. */
    public static final class Scope implements AutoCloseable {
        private final Backend previous;

        private Scope(Backend previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            current = previous;
        }
    }
}
