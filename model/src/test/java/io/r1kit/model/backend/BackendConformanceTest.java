package io.r1kit.model.backend;

import io.r1kit.model.backend.Conformance.Profile;
import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.backend.device.DeviceKernels;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.HostDevice;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * {@link Conformance}'s cases (every {@link Backend} op, forward and backward, against
 * {@link ReferenceBackend}, with the tolerances documented there) on every backend under test:
 * {@link CpuBackend}; the host and the emulated device as {@code DeviceBackend}s (through
 * {@link DeviceKernels}: the device methods the ops call, over the CPU kernels); and {@link CudaBackend} when a CUDA device and its driver are present —
 * otherwise the CUDA cases are reported as skipped with the reason from
 * {@link Devices#cudaUnavailableReason()}. (ReferenceBackend is the control, so it is not a row of
 * its own: comparing it with itself could not fail.) The same cases run without JUnit in
 * {@code r1kit selftest}.
 */
class BackendConformanceTest {

    static Stream<Arguments> backends() {
        Supplier<Backend> cpu = () -> CpuBackend.INSTANCE;
        Supplier<Backend> cuda = () -> {
            String why = Devices.cudaUnavailableReason();
            Assumptions.assumeTrue(why == null, "CUDA backend skipped: " + why);
            return CudaBackend.forDevice(0);
        };
        // the host as a DeviceBackend (what host tensors' ops run on), seen through the Backend interface
        Supplier<Backend> host = () -> new DeviceKernels(new HostDevice(() -> CpuBackend.INSTANCE));
        Supplier<Backend> emu = () -> new DeviceKernels(new EmulatedDevice());
        return Stream.of(Arguments.of("cpu", cpu, Conformance.CPU), Arguments.of("host-device", host, Conformance.CPU),
                Arguments.of("emulated-device", emu, Conformance.CPU), Arguments.of("cuda", cuda, Conformance.CUDA));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void gemm(String name, Supplier<Backend> sb, Profile p) {
        Conformance.gemm(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void gemmBatched(String name, Supplier<Backend> sb, Profile p) {
        Conformance.gemmBatched(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void elementwise(String name, Supplier<Backend> sb, Profile p) {
        Conformance.elementwise(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void sums(String name, Supplier<Backend> sb, Profile p) {
        Conformance.sums(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rmsnorm(String name, Supplier<Backend> sb, Profile p) {
        Conformance.rmsnorm(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rope(String name, Supplier<Backend> sb, Profile p) {
        Conformance.rope(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void swiglu(String name, Supplier<Backend> sb, Profile p) {
        Conformance.swiglu(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attention(String name, Supplier<Backend> sb, Profile p) {
        Conformance.attention(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void softmaxFamily(String name, Supplier<Backend> sb, Profile p) {
        Conformance.softmaxFamily(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embedding(String name, Supplier<Backend> sb, Profile p) {
        Conformance.embedding(sb.get(), p, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void adamw(String name, Supplier<Backend> sb, Profile p) {
        Conformance.adamw(sb.get(), p, name);
    }
}
