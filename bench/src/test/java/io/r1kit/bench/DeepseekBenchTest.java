package io.r1kit.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/**
 * The MLA and MoE bench rows time the same function on both sides: r1kit's forward and the
 * libtorch one agree to 1e-4 of the output's largest entry (float32 on both sides, sums of a few
 * hundred products; a wrong rope, scale, expert choice or weight would differ by ≫ 1e-2), on the
 * quick shapes and on a plain-q_proj MLA.
 */
class DeepseekBenchTest {
    @Test
    void bothSidesComputeTheSameLayers() {
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            for (DeepseekBench.MlaCase c : new DeepseekBench.MlaCase[] {DeepseekBench.mlaCases(true).get(0),
                    new DeepseekBench.MlaCase(2, 40, 64, 4, 0, 32, 16, 8, 24)}) {
                double d = DeepseekBench.mlaForwardDifference(c, nd);
                assertTrue(d <= 1e-4, c + ": relative difference " + d);
            }
            for (DeepseekBench.MoeCase c : new DeepseekBench.MoeCase[] {DeepseekBench.moeCases(true).get(0),
                    new DeepseekBench.MoeCase(2, 30, 48, 12, 3, 2, 3, 16, 2)}) {
                double d = DeepseekBench.moeForwardDifference(c, nd);
                assertTrue(d <= 1e-4, c + ": relative difference " + d);
            }
        }
    }
}
