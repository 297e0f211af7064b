package io.r1kit.model.backend;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Device selection: auto falls back with one line, explicit cuda fails loudly, bad specs are rejected. */
class DevicesTest {

    @Test
    void cpuIsAlwaysTheCpuBackendAndLogsNothing() {
        List<String> log = new ArrayList<>();
        Devices.Selection s = Devices.select("cpu", log::add);
        assertSame(CpuBackend.INSTANCE, s.backend());
        assertEquals("cpu", s.device());
        assertTrue(log.isEmpty(), log.toString());
    }

    @Test
    void autoWithoutCudaFallsBackToCpuWithOneLineSayingWhy() {
        String why = Devices.cudaUnavailableReason();
        Assumptions.assumeTrue(why != null, "a CUDA device is available here: the fallback path is not taken");
        for (String spec : new String[] {"auto", "AUTO", " auto ", null, ""}) {
            List<String> log = new ArrayList<>();
            Devices.Selection s = Devices.select(spec, log::add);
            assertSame(CpuBackend.INSTANCE, s.backend(), "spec " + spec);
            assertEquals(why, s.fallbackReason());
            assertEquals(1, log.size(), "exactly one line: " + log);
            assertTrue(log.get(0).contains(why) && log.get(0).contains("cpu"), log.get(0));
            assertTrue(!log.get(0).contains("\n"), log.get(0));
        }
    }

    @Test
    void explicitCudaWithoutCudaIsAClearError() {
        String why = Devices.cudaUnavailableReason();
        Assumptions.assumeTrue(why != null, "a CUDA device is available here: cuda selects it");
        for (String spec : new String[] {"cuda", "cuda:0", "CUDA:1"}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Devices.select(spec, l -> {}));
            assertTrue(e.getMessage().contains("CUDA is not available") && e.getMessage().contains(why), e.getMessage());
        }
    }

    @Test
    void autoWithCudaSelectsDeviceZero() {
        Assumptions.assumeTrue(Devices.cudaAvailable(), "no CUDA here: " + Devices.cudaUnavailableReason());
        List<String> log = new ArrayList<>();
        Devices.Selection s = Devices.select("auto", log::add);
        assertEquals("cuda:0", s.device());
        assertNull(s.fallbackReason());
        assertTrue(log.isEmpty());
    }

    @Test
    void malformedSpecsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Devices.select("tpu", l -> {}));
        assertThrows(IllegalArgumentException.class, () -> Devices.select("cuda:x", l -> {}));
        assertThrows(IllegalArgumentException.class, () -> Devices.select("cuda:-1", l -> {}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.select("gpu", l -> {}));
        assertTrue(e.getMessage().contains("auto, cpu, cuda, cuda:N"), e.getMessage());
    }
}
