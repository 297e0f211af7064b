package io.r1kit.bench;

import io.r1kit.model.backend.Devices;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench --device cuda} on a machine without a usable GPU: exit 2 and exactly Devices.select's one-line reason. */
class BenchCudaDeviceTest {
    private static List<String> run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = new CommandLine(new BenchMain(new PrintStream(err, true, StandardCharsets.UTF_8))).execute(args);
        assertEquals(2, code, "exit code of " + String.join(" ", args));
        return err.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void cudaWithoutGpuFailsWithTheOneLineReasonFromDevicesSelect() {
        Assumptions.assumeFalse(Devices.cudaAvailable(), "this machine has a usable GPU: the CUDA bench would run");
        for (String spec : List.of("cuda", "cuda:0")) {
            String expected;
            try {
                Devices.select(spec, line -> {});
                throw new AssertionError("Devices.select(" + spec + ") should fail without CUDA");
            } catch (IllegalStateException e) {
                expected = "r1kit bench: " + e.getMessage();
            }
            List<String> lines = run("--device", spec, "--quick");
            assertEquals(List.of(expected), lines, "one line, the reason");
            assertTrue(expected.contains("CUDA is not available"), expected);
        }
    }

    @Test
    void unknownDeviceIsRejectedByName() {
        List<String> lines = run("--device", "tpu");
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("'tpu' is not one of auto, cpu, cuda, cuda:N"), lines.get(0));
    }
}
