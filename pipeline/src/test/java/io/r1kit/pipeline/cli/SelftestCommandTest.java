package io.r1kit.pipeline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.backend.Devices;
import io.r1kit.pipeline.testing.Cli;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code r1kit selftest}'s documented exit statuses and JSON where no GPU is needed: a CUDA request
 * on a machine without CUDA exits 3 and prints the reason, which the JSON holds too; an unknown
 * device exits 2. (The checks themselves are BackendConformanceTest's cases; a passing CPU run is
 * what scripts/gpu-kit's run-selftest.sh does on a machine without a GPU.)
 */
class SelftestCommandTest {

    @Test
    void cudaWithoutADriverIsUnavailableWithTheReason(@TempDir Path dir) throws Exception {
        String why = Devices.cudaUnavailableReason();
        Assumptions.assumeTrue(why != null, "CUDA is available here");
        Path json = dir.resolve("st.json");
        Cli.Result r = Cli.run("selftest", "--device", "cuda", "--json", json.toString());
        assertEquals(SelftestCommand.UNAVAILABLE, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("device cuda unavailable") && r.out().contains(why), r.out());
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertEquals("unavailable", root.get("status").asText());
        assertTrue(root.get("reason").asText().contains(why), root.get("reason").asText());
        assertTrue(root.has("precompiled_kernels"));
    }

    @Test
    void unknownDeviceIsAUsageError() {
        Cli.Result r = Cli.run("selftest", "--device", "tpu");
        assertEquals(SelftestCommand.USAGE, r.exit());
        assertTrue(r.err().contains("device 'tpu' is not one of"), r.err());
    }
}
