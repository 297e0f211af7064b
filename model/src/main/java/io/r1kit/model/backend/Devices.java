package io.r1kit.model.backend;

import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.backend.cuda.CudaDeviceBackend;
import io.r1kit.model.backend.cuda.CudaLibraries;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.EmulatedDevice;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * Device selection: turns a {@code device:} option ({@code auto | cpu | cuda | cuda:N | emulated})
 * into a {@link Backend} and, for a device, the {@link DeviceBackend} models move to.
 *
 * <ul>
 *   <li>{@code cpu}: {@link CpuBackend}.
 *   <li>{@code emulated}: {@link EmulatedDevice}, the device-resident path on the CPU kernels (for
 *       checking it without a GPU; slower than {@code cpu}).
 *   <li>{@code cuda} / {@code cuda:N}: the {@link CudaBackend} of device 0 / N; when CUDA is not
 *       usable this is an error naming the reason (never a silent fallback).
 *   <li>{@code auto} (also null or blank): CUDA device 0 when a device is present and the libraries
 *       load; otherwise the CPU, after logging ONE line that says why.
 * </ul>
 * The environment variable {@code R1KIT_DEVICE} gives the default spec ({@link #defaultSpec()});
 * {@code R1KIT_CUDA_LIB_DIR} / {@code -Dr1kit.cuda.libDir} point at a folder of CUDA libraries
 * (see {@link CudaLibraries}).
 */
public final class Devices {
    private Devices() {}

    public static final String DEVICE_ENV = "R1KIT_DEVICE";

    /**
     * The chosen backend, its device name ("cpu", "cuda:0", "emulated"), why CPU was chosen under
     * auto (or null), and the device models and trainers move their tensors to (null: they stay on
     * the host and run on {@code backend}).
     */
    public record Selection(Backend backend, String device, String fallbackReason, DeviceBackend resident) {
        public Selection(Backend backend, String device, String fallbackReason) {
            this(backend, device, fallbackReason, null);
        }
    }

    /** The spec that selects {@link EmulatedDevice}: device-resident code on the CPU kernels, every transfer counted (tests). */
    public static final String EMULATED = "emulated";

    /** {@code $R1KIT_DEVICE}, or "auto". */
    public static String defaultSpec() {
        String env = System.getenv(DEVICE_ENV);
        return env == null || env.isBlank() ? "auto" : env.trim();
    }

    /** Selects a backend; an auto fallback is logged as one line on stderr. */
    public static Backend select(String spec) {
        return select(spec, line -> System.err.println(line)).backend();
    }

    /**
     * Selects a backend. {@code log} receives the one-line reason when auto falls back to the CPU.
     *
     * @throws IllegalArgumentException for an unknown spec
     * @throws IllegalStateException when CUDA is asked for explicitly and is not usable
     */
    public static Selection select(String spec, Consumer<String> log) {
        String s = spec == null || spec.isBlank() ? "auto" : spec.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "cpu":
                return new Selection(CpuBackend.INSTANCE, "cpu", null);
            case EMULATED:
                return new Selection(CpuBackend.INSTANCE, EMULATED, null, new EmulatedDevice());
            case "auto": {
                String why = cudaUnavailableReason();
                if (why == null) {
                    try {
                        return cuda(0);
                    } catch (RuntimeException | LinkageError e) {
                        why = "CUDA device 0 could not be opened: " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                    }
                }
                log.accept("r1kit: device auto -> cpu: " + why);
                return new Selection(CpuBackend.INSTANCE, "cpu", why);
            }
            default:
                break;
        }
        if (!s.equals("cuda") && !s.startsWith("cuda:")) {
            throw new IllegalArgumentException("device '" + spec + "' is not one of auto, cpu, cuda, cuda:N, emulated");
        }
        int ordinal = 0;
        if (s.startsWith("cuda:")) {
            try {
                ordinal = Integer.parseInt(s.substring(5));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("device '" + spec + "': the CUDA device number after 'cuda:' must be an integer >= 0");
            }
            if (ordinal < 0) throw new IllegalArgumentException("device '" + spec + "': the CUDA device number must be >= 0");
        }
        String why = cudaUnavailableReason();
        if (why != null) {
            throw new IllegalStateException("device '" + spec + "' was requested but CUDA is not available: " + why
                    + " (use device: auto to fall back to the CPU, or device: cpu)");
        }
        int count = CudaLibraries.status().deviceCount();
        if (ordinal >= count) {
            throw new IllegalStateException("device '" + spec + "': only " + count + " CUDA device(s) visible (cuda:0"
                    + (count > 1 ? "..cuda:" + (count - 1) : "") + ")");
        }
        return cuda(ordinal);
    }

    /** A CUDA device: host-array ops on its CudaBackend, device-resident tensors on its CudaDeviceBackend. */
    private static Selection cuda(int ordinal) {
        CudaBackend b = CudaBackend.forDevice(ordinal);
        return new Selection(b, "cuda:" + ordinal, null, new CudaDeviceBackend(b));
    }

    /** Why CUDA cannot be used on this machine (one line), or null when it can. Never throws. */
    public static String cudaUnavailableReason() {
        CudaLibraries.Status st = CudaLibraries.status();
        return st.available() ? null : st.reason();
    }

    public static boolean cudaAvailable() {
        return cudaUnavailableReason() == null;
    }
}
