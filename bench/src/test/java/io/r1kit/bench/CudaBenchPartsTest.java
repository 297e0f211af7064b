package io.r1kit.bench;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.Transfers;
import io.r1kit.model.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the CUDA bench that run without a GPU: the training loop on an emulated device, the shapes, the peak table. */
class CudaBenchPartsTest {
    @Test
    void trainingLoopRunsOnADeviceAndOnlyCrossesAtTheEdges() {
        ModelConfig cfg = ModelConfig.llama(61, 32, 48, 2, 4, 2).withRope(10000.0, RopeTables.Scaling.none(), 64);
        CausalLM m = CausalLM.random(cfg, 5);
        float before = m.finalNorm().data()[0];
        EmulatedDevice emu = new EmulatedDevice();
        CudaBench.Options o = new CudaBench.Options(true, 1, null, 2, 8, 4);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        double tps = CudaBench.trainingTokensPerSecond(m, emu, o, new PrintStream(log, true, StandardCharsets.UTF_8));
        assertTrue(tps > 0, "tokens/s " + tps);
        for (Parameter p : m.parameters()) assertTrue(p.isOnDevice(), p.name());
        assertFalse(before == m.finalNorm().data()[0], "AdamW updated the weights");
        int steps = 4;   // quick: 3 timed + 1 warm-up
        long paramUploads = m.parameters().size();
        // per step: ids, positions, targets in; loss and gradient norm out; the RoPE tables once
        assertEquals(paramUploads + 2 + 3L * steps, emu.transfers().count(Transfers.Direction.TO_DEVICE), emu.transfers().log().toString());
        assertEquals(2L * steps + 1, emu.transfers().count(Transfers.Direction.TO_HOST), "loss + norm per step, and the weight read above");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("training warm-up step: loss"), log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void decodeRunsOnTheDeviceAndCopiesOnlyIdsAndLogprobs() {
        ModelConfig cfg = ModelConfig.llama(61, 32, 48, 2, 4, 2).withRope(10000.0, RopeTables.Scaling.none(), 64);
        CausalLM m = CausalLM.random(cfg, 6);
        EmulatedDevice emu = new EmulatedDevice();
        m.moveTo(emu);
        emu.transfers().reset();
        double tps = CudaBench.decodeTokensPerSecond(m, new CudaBench.Options(true, 1, null, 2, 8, 4));
        assertTrue(tps > 0, "tokens/s " + tps);
        // the RoPE tables once per Generator; otherwise only the generation edges (DeviceGenerationTest checks them exactly)
        java.util.Set<String> allowed = java.util.Set.of("rope cos table", "rope sin table", "key mask", "prefill ids",
                "prefill positions", "prefill last positions", "sampled ids", "sampled log-probs", "decode ids", "decode positions",
                "kept rows (rows finished)", "key mask (rows finished)");
        for (Transfers.Transfer t : emu.transfers().log()) assertTrue(allowed.contains(t.what()), "unexpected copy " + t);
    }

    @Test
    void gemmShapesFollowTheModel() {
        ModelConfig cfg = ModelConfig.llama(1000, 64, 160, 2, 4, 2);
        CudaBench.Options o = new CudaBench.Options(false, 1, null, 2, 16, 4);
        List<int[]> s = CudaBench.gemmShapes(cfg, o);
        assertEquals(List.of("32x64x64", "32x160x64", "32x64x160", "32x1000x64"), s.stream().map(x -> x[0] + "x" + x[1] + "x" + x[2]).toList());
        assertEquals(1, CudaBench.gemmShapes(null, new CudaBench.Options(true, 1, null, 1, 1, 1)).size());
    }

    @Test
    void peaksMatchTheMostSpecificName() {
        assertEquals(312.0, GpuPeaks.bf16DenseTflops("NVIDIA A100-SXM4-80GB"));
        assertEquals(125.0, GpuPeaks.bf16DenseTflops("NVIDIA A10"));
        assertEquals(756.0, GpuPeaks.bf16DenseTflops("NVIDIA H100 PCIe"));
        assertEquals(989.0, GpuPeaks.bf16DenseTflops("NVIDIA H100 80GB HBM3"));
        assertEquals(362.0, GpuPeaks.bf16DenseTflops("NVIDIA L40S"));
        assertEquals(121.0, GpuPeaks.bf16DenseTflops("NVIDIA L4"));
        assertNull(GpuPeaks.bf16DenseTflops("Tesla T4"));
    }
}
