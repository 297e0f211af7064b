package io.r1kit.pipeline.run;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tensor.Backends;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run's device is one value: selected once with its precision, applied to every model the same way. */
class RunDeviceTest {

    private static CausalLM tiny() {
        return CausalLM.random(ModelConfig.llama(40, 32, 64, 2, 2, 2).withRope(10000.0, RopeTables.Scaling.none(), 64), 1);
    }

    @Test
    void hostKeepsModelsWhereTheyAre() {
        RunDevice cpu = RunDevice.select("cpu", "fp32", line -> { });
        assertNull(cpu.resident());
        CausalLM m = tiny();
        assertSame(m, cpu.place(m));
        assertNull(m.device());
        assertSame(RunDevice.HOST.hostBackend(), cpu.hostBackend());
    }

    @Test
    void aDeviceGetsEveryModelInTheRunsPrecision() {
        RunDevice emu = RunDevice.select("emulated", "bf16", line -> { });
        assertNotNull(emu.resident());
        CausalLM m = emu.place(tiny());
        assertSame(emu.resident(), m.device());
        assertEquals(Precision.BF16, m.precision(), "precision is applied with the move, not by each caller");
        assertTrue(emu.describe().contains("models on device-resident tensors of") && emu.describe().contains("bf16"), emu.describe());
    }

    @Test
    void bf16WithoutADeviceIsRefusedNamingTheDevice() {
        var e = assertThrows(IllegalArgumentException.class, () -> RunDevice.select("cpu", "bf16", line -> { }));
        assertTrue(e.getMessage().contains("bf16") && e.getMessage().contains("cpu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunDevice.select("cpu", "fp16", line -> { }));
    }

    @Test
    void autoWithoutAGpuSaysWhyOnce() {
        List<String> lines = new ArrayList<>();
        RunDevice d = RunDevice.select("auto", "fp32", lines::add);
        if (d.resident() == null) assertEquals(1, lines.size(), "one fallback line: " + lines);
    }

    @Test
    void activateSetsTheHostBackendOnlyForTheScope() {
        try (var outer = Backends.use(ReferenceBackend.INSTANCE)) {
            RunDevice cpu = RunDevice.select("cpu", "fp32", line -> { });
            try (var scope = cpu.activate()) {
                assertSame(cpu.hostBackend(), Backends.current());
            }
            assertSame(ReferenceBackend.INSTANCE, Backends.current(), "the previous backend is back after the run");
        }
    }
}
