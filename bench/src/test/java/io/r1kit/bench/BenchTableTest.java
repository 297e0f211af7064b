package io.r1kit.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The pieces of the bench that do not need a quiet machine: statistics, timing order, table rendering. */
class BenchTableTest {

    @Test
    void medianAndMin() {
        assertEquals(3.0, SideBySideTimer.median(new double[] {5, 1, 3}), 0);
        assertEquals(2.5, SideBySideTimer.median(new double[] {4, 1, 3, 2}), 0);
        assertEquals(1.0, SideBySideTimer.min(new double[] {4, 1, 3, 2}), 0);
    }

    @Test
    void timerRunsBothSidesEqually() throws Exception {
        int[] calls = new int[2];
        SideBySideTimer.Result r = new SideBySideTimer(0.0, 4).time(() -> calls[0]++, () -> calls[1]++);
        assertEquals(calls[0], calls[1], "warm-up (>= 3 calls) and 4 timed repeats on each side");
        assertTrue(calls[0] >= 7, "at least 3 warm-up calls + 4 repeats, got " + calls[0]);
        assertTrue(r.r1kitMs() >= 0 && r.libtorchMs() >= 0);
    }

    @Test
    void everyTimedCallFollowsAnUntimedCallOfTheSameSide() throws Exception {
        // libtorch's OpenMP workers spin after an op and slow an r1kit call started right after
        // it (and the other way round), so each timed call must follow one of its own side.
        StringBuilder log = new StringBuilder();
        SideBySideTimer.Result r = new SideBySideTimer(0.0, 4).time(() -> log.append('r'), () -> log.append('t'));
        String timed = log.substring(log.length() - 16);     // after warm-up: 4 repeats x 2 sides x (settle + timed)
        assertEquals("rrttttrrrrttttrr", timed, "settle call then timed call, sides alternating which goes first");
        assertTrue(r.r1kitMs() >= 0 && r.libtorchMs() >= 0);
    }

    @Test
    void tableShowsRatiosAndUnavailableRows() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.putObject("machine").put("cores", 2).put("jdk", "test");
        root.putObject("settings").put("repeats", 5);
        root.putArray("gemm").addObject().put("label", "square").put("m", 8).put("n", 9).put("k", 10)
                .put("trans_a", false).put("trans_b", true).put("r1kit_gflops", 100.0)
                .put("libtorch_gflops", 50.0).put("ratio", 2.0);
        root.putObject("gemm_kernel_ceiling").put("m", 8).put("n", 9).put("k", 10).put("r1kit_kernel_gflops", 123.4)
                .put("libtorch_gflops", 61.7).put("ratio", 2.0);
        root.putArray("attention").addObject().put("b", 1).put("t", 256).put("hq", 8).put("hkv", 2).put("d", 64)
                .put("status", "unavailable").put("reason", "not implemented yet: attention");
        String table = BenchTable.render(root);
        assertTrue(table.contains("square") && table.contains("100.0") && table.contains("2.00"), table);
        assertTrue(table.contains("unavailable: not implemented yet: attention"), table);
        assertTrue(table.contains("micro-kernel ceiling (*)") && table.contains("123.4") && table.contains("no packing"), table);
        assertTrue(table.contains("cores") && table.contains("medians of 5"), table);
    }
}
