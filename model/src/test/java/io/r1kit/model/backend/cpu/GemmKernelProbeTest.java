package io.r1kit.model.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GemmKernelProbeTest {
    @Test
    void taskGridCoversEveryTileOnce() {
        // The GEMM and the probe split C by this grid: every (panel, strip) in exactly one task,
        // and with several threads a task count that is a multiple of them when the tiles allow.
        for (int mr : GemmPacked.MR_CHOICES) {
            for (int panels : new int[] {1, 2, 7, 20, 21, 171, 400}) {
                for (int strips : new int[] {1, 3, 16, 17, 64, 129}) {
                    for (int threads : new int[] {1, 2, 3, 8}) {
                        GemmPacked.TaskGrid g = GemmPacked.TaskGrid.of(mr, panels, strips, threads);
                        int[][] seen = new int[panels][strips];
                        for (int t = 0; t < g.tasks(); t++) {
                            assertTrue(g.endPanel(t) - g.firstPanel(t) <= GemmPacked.MC / mr, "row block of at most MC rows");
                            for (int q = g.firstPanel(t); q < g.endPanel(t); q++) {
                                for (int s = g.firstStrip(t); s < g.endStrip(t); s++) seen[q][s]++;
                            }
                        }
                        for (int q = 0; q < panels; q++) {
                            for (int s = 0; s < strips; s++) {
                                assertEquals(1, seen[q][s], "tile " + q + "," + s + " of " + g + ", threads " + threads);
                            }
                        }
                        if (threads > 1 && (long) panels * strips % threads == 0 && panels * strips >= threads) {
                            assertEquals(0, g.tasks() % threads, g + " for " + threads + " threads");
                        }
                    }
                }
            }
        }
    }

    @Test
    void probeMakesTheGemmsTileCalls() {
        for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 129}, {13, 17, GemmPacked.KC + 1}, {1024, 1024, 1024}}) {
            for (int threads : new int[] {1, 2}) {
                long expected = (long) GemmPacked.ceilDiv(s[0], GemmPacked.MR) * GemmPacked.ceilDiv(s[1], GemmPacked.NR)
                        * GemmPacked.ceilDiv(s[2], GemmPacked.KC);
                assertEquals(expected, GemmKernelProbe.tileCalls(s[0], s[1], s[2]));
                assertEquals(expected, GemmKernelProbe.run(s[0], s[1], s[2], threads), s[0] + "x" + s[1] + "x" + s[2]);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> GemmKernelProbe.run(0, 4, 4, 1));
    }
}
