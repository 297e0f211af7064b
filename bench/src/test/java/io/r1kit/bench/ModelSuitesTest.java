package io.r1kit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code bench --suite train / rollout} on tiny shapes: the JSON has exactly the published keys, and
 * the two sides compute the same thing (the same losses step after step, the same greedy tokens).
 */
class ModelSuitesTest {
    static NDManager nd;

    @BeforeAll
    static void open() {
        nd = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        nd.close();
    }

    /**
     * Losses of three steps from the same weights on the same data, float32 on both sides with
     * different reduction orders (r1kit's chunked fused lm head and its GEMM blocking, libtorch's
     * materialised logits and MKL): observed differences are at most 5e-7 on losses of ~3.9. The
     * bound, 2e-5, leaves 40x headroom and is far below the loss change from one step to the next
     * (~8e-2 at lr 1e-3), which a wrong clip, weight decay or bias correction on either side would
     * disturb by more than that.
     */
    static final double LOSS_ATOL = 2e-5;

    @Test
    void trainStepsOfBothSidesAgree() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        for (TrainBench.Case c : TrainBench.tinyCases()) {
            TrainBench.Row r = TrainBench.run(c, nd, new SideBySideTimer(0, 1, 1, false), 3, quiet);
            List<Double> a = r.r1kitLosses(), b = r.libtorchLosses();
            assertEquals(3, a.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(b.get(i), a.get(i), LOSS_ATOL, c.model() + " loss of step " + (i + 1) + ": r1kit " + a + " libtorch " + b);
            }
            assertTrue(Math.abs(a.get(2) - a.get(0)) > 10 * LOSS_ATOL, c.model() + ": the steps must change the loss to mean anything, got " + a);
            assertTrue(r.r1kitTokensPerSec() > 0 && r.libtorchTokensPerSec() > 0);
        }
    }

    @Test
    void greedyTokensOfBothSidesAgree() throws Exception {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        for (RolloutBench.Case c : RolloutBench.tinyCases()) {
            for (RolloutBench.Row r : RolloutBench.run(c, nd, b -> new SideBySideTimer(0, 1, 0, false), b -> true, 10.0, quiet)) {
                assertEquals(r.tokensCompared(), r.tokensEqual(), c.model() + " batch " + r.batch() + ": greedy tokens differ");
                assertEquals(r.batch() * c.newTokens(), r.tokensCompared());
            }
        }
    }

    @Test
    void suitesPrintExactlyThePublishedKeys() throws Exception {
        JsonNode train = runJson("--suite", "train", "--tiny", "--json");
        assertEquals(Set.of("model", "params", "batch", "seq_len", "r1kit_tokens_per_s", "libtorch_tokens_per_s", "ratio"), keys(train.get("train").get(0)));
        assertEquals(TrainBench.tinyCases().size(), train.get("train").size());
        assertTrue(train.get("settings").get("r1kit_gemm").asText().contains("GEMM"), "the bench says which GEMM ran");

        JsonNode roll = runJson("--suite", "rollout", "--tiny", "--json");
        assertEquals(Set.of("model", "batch", "weights", "r1kit_tokens_per_s", "libtorch_tokens_per_s", "roofline_fraction"), keys(roll.get("rollout").get(0)));
        // a number (the tiny model's fraction rounds to 0 at three decimals: its weights are a few kB)
        assertTrue(roll.get("rollout").get(0).get("roofline_fraction").isNumber(), "batch 1 has a roofline fraction");
        assertTrue(roll.get("rollout_details").get(0).get("r1kit_decode_tokens_per_s").isNumber(), "batch 1 has a decode-only rate");
        assertTrue(roll.get("rollout").get(1).get("roofline_fraction").isNull(), "other batches do not");
        assertTrue(roll.get("settings").get("memory_bandwidth_gb_per_s").asDouble() > 0);
    }

    @Test
    void memorySuiteComparesEstimateWithMeasurement() throws Exception {
        JsonNode mem = runJson("--suite", "memory", "--tiny");
        assertEquals(2, mem.get("memory").size());
        for (JsonNode r : mem.get("memory")) {
            assertTrue(r.get("measured_bytes").asLong() > 0 && r.get("estimated_bytes").asLong() > 0, r.toString());
            assertEquals((r.get("estimated_bytes").asDouble() - r.get("measured_bytes").asDouble()) / r.get("measured_bytes").asDouble(),
                    r.get("relative_error").asDouble(), 1e-3);
        }
    }

    @Test
    void unknownSuiteIsRefused() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = new CommandLine(new BenchMain(new PrintStream(err, true, StandardCharsets.UTF_8))).execute("--suite", "nope");
        assertEquals(2, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown --suite 'nope'"));
    }

    static JsonNode runJson(String... args) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int rc;
        try {
            rc = new CommandLine(new BenchMain(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))).execute(args);
        } finally {
            System.setOut(old);
        }
        assertEquals(0, rc, String.join(" ", args));
        return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    }

    static Set<String> keys(JsonNode o) {
        Set<String> k = new TreeSet<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) k.add(it.next());
        return k;
    }
}
