package io.r1kit.grpo.sft;

import static io.r1kit.grpo.sft.SftTestSupport.TOK;
import static io.r1kit.grpo.sft.SftTestSupport.pc;
import static io.r1kit.grpo.sft.SftTestSupport.text;
import static io.r1kit.grpo.sft.SftTestSupport.tinyModel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.Transfers;
import io.r1kit.model.backend.device.Transfers.Direction;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SFT with the model on a device ({@link EmulatedDevice}) against the CPU, with gradient
 * checkpointing on (it recomputes each block on the device). Tolerances: as GrpoOnDeviceTest —
 * the lm-head GEMM over all rows at once vs the host's chunks (a few ulp on the loss and
 * gradients: 1e-5 relative + 1e-6 on losses and norms) and AdamW's ±lr first steps (weights 1e-5).
 */
class SftOnDeviceTest {
    static Dataset data() {
        return new Dataset(List.of(pc("a", "what is 2+2?", "<answer> 4 </answer>"), pc("b", "what is 3*3?", "<answer> 9 </answer>"),
                pc("c", "say hi", "hi there"), pc("d", "copy xyz", "xyz"), pc("e", "count", "1 2 3 4 5 6")));
    }

    static Map<String, Object> cfg(Object... more) {
        Map<String, Object> m = SftTestSupport.kv("template", "toy", "learning_rate", 1e-2, "max_steps", 4, "batch_size", 2,
                "gradient_accumulation_steps", 2, "logging_steps", 1, "max_seq_length", 64, "gradient_checkpointing", true,
                "max_grad_norm", 0.5);
        for (int i = 0; i < more.length; i += 2) m.put((String) more[i], more[i + 1]);
        return m;
    }

    @Test
    void sftOnTheDeviceMatchesTheCpuAndCopiesOnlyAtTheEdges(@TempDir Path dir) {
        CausalLM cpu = tinyModel(3);
        SftTrainer.Result a = SftTrainer.builder(cpu, TOK, SftConfig.of(cfg())).log(l -> { }).outputDir(dir.resolve("cpu"))
                .build().train(data(), data());

        EmulatedDevice emu = new EmulatedDevice();
        CausalLM dev = tinyModel(3).moveTo(emu);
        emu.transfers().reset();
        List<List<Transfers.Transfer>> perLine = new ArrayList<>();
        Consumer<String> snapshot = line -> {
            if (line.startsWith("{")) {   // one metrics line per step (logging_steps 1), then the eval line
                perLine.add(emu.transfers().log());
                emu.transfers().reset();
            }
        };
        SftTrainer.Result b = SftTrainer.builder(dev, TOK, SftConfig.of(cfg())).log(snapshot).outputDir(dir.resolve("dev"))
                .build().train(data(), data());

        assertEquals(a.steps(), b.steps());
        close("eval loss", a.evalLoss(), b.evalLoss());
        List<JsonNode> la = MetricsLog.read(dir.resolve("cpu").resolve(SftTrainer.METRICS_FILE));
        List<JsonNode> lb = MetricsLog.read(dir.resolve("dev").resolve(SftTrainer.METRICS_FILE));
        assertEquals(la.size(), lb.size());
        for (int i = 0; i < la.size(); i++)
            for (String k : List.of("loss", "grad_norm", "eval/loss"))
                if (la.get(i).has(k)) close(k + " at line " + i, la.get(i).get(k).asDouble(), lb.get(i).get(k).asDouble());
        List<Parameter> pa = cpu.parameters(), pb = dev.parameters();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).data(), pb.get(i).data(), 1e-5f, pa.get(i).name());

        // per step: each forward pass (the step's examples in chunks under forward_token_budget) uploads its ids,
        // positions, key mask and targets once and reads its loss (4 B); one gradient norm (8 B); nothing else
        assertEquals(5, perLine.size(), "4 step lines and the eval line");
        for (int s = 0; s < 4; s++) {
            List<Transfers.Transfer> log = perLine.get(s);
            for (Transfers.Transfer t : log) {
                boolean ok = t.direction() == Direction.TO_HOST ? (t.what().equals("sft loss") && t.bytes() == 4)
                        || (t.what().equals("gradient norm") && t.bytes() == 8)
                        : t.what().startsWith("embedding ids") || t.what().startsWith("rope positions")
                        || t.what().startsWith("attention key mask") || t.what().startsWith("linearTokenLogProbs targets")
                        || (s == 0 && t.what().startsWith("rope "));
                assertTrue(ok, "step " + (s + 1) + " copied something that is not an edge: " + t + " in " + log);
            }
            int chunks = count(log, "sft loss");
            assertTrue(chunks >= 1, "step " + (s + 1) + ": " + log);
            assertEquals(1, count(log, "gradient norm"));
            for (String up : List.of("embedding ids", "rope positions", "linearTokenLogProbs targets"))
                assertEquals(chunks, count(log, up), up + " at step " + (s + 1) + ": " + log);
        }
        // the eval: per batch only its row sums come back, B floats, never the [B, T] log-probs
        for (Transfers.Transfer t : perLine.get(4))
            if (t.direction() == Direction.TO_HOST) assertTrue(t.what().matches("data\\(\\) of \\[\\d\\]"), t.toString());
    }

    /**
     * Mixed precision (precision bf16: the projections read AdamW's bf16 weight copies, their inputs
     * saved in bf16; gradient checkpointing recomputes the blocks the same way) against the fp32 CPU
     * run: each step's loss and the eval loss within 2% relative (bf16 rounding, u = 2^-9 per
     * operand, compounding over 4 steps of diverging trajectories; measured worst 0.18%), and the
     * same edge copies as the fp32 device run (the casts and bf16 GEMMs never cross).
     */
    @Test
    void sftInBf16TracksTheFp32RunAndCopiesOnlyAtTheEdges(@TempDir Path dir) {
        CausalLM cpu = tinyModel(3);
        SftTrainer.Result a = SftTrainer.builder(cpu, TOK, SftConfig.of(cfg())).log(l -> { }).outputDir(dir.resolve("cpu"))
                .build().train(data(), data());
        EmulatedDevice emu = new EmulatedDevice();
        CausalLM dev = tinyModel(3).moveTo(emu).precision(Precision.BF16);
        emu.transfers().reset();
        List<List<Transfers.Transfer>> perLine = new ArrayList<>();
        Consumer<String> snapshot = line -> {
            if (line.startsWith("{")) {   // one metrics line per step, then the eval line
                perLine.add(emu.transfers().log());
                emu.transfers().reset();
            }
        };
        SftTrainer.Result b = SftTrainer.builder(dev, TOK, SftConfig.of(cfg())).log(snapshot).outputDir(dir.resolve("dev"))
                .build().train(data(), data());
        List<JsonNode> la = MetricsLog.read(dir.resolve("cpu").resolve(SftTrainer.METRICS_FILE));
        List<JsonNode> lb = MetricsLog.read(dir.resolve("dev").resolve(SftTrainer.METRICS_FILE));
        assertEquals(la.size(), lb.size());
        double worst = 0;
        for (int i = 0; i < la.size(); i++)
            for (String k : List.of("loss", "eval/loss"))
                if (la.get(i).has(k)) {
                    double want = la.get(i).get(k).asDouble(), got = lb.get(i).get(k).asDouble();
                    worst = Math.max(worst, Math.abs(want - got) / Math.abs(want));
                    assertEquals(want, got, 2e-2 * Math.abs(want), k + " at line " + i);
                }
        assertTrue(Math.abs(a.evalLoss() - b.evalLoss()) <= 2e-2 * a.evalLoss(), a.evalLoss() + " vs " + b.evalLoss());
        assertEquals(5, perLine.size(), "4 step lines and the eval line");
        for (int s = 0; s < 5; s++)
            for (Transfers.Transfer t : perLine.get(s)) {
                boolean ok = t.direction() == Direction.TO_HOST ? t.what().equals("sft loss") || t.what().equals("gradient norm")
                        || s == 4 && t.what().matches("data\\(\\) of \\[\\d\\]")
                        : t.what().startsWith("embedding ids") || t.what().startsWith("rope ")
                        || t.what().startsWith("attention key mask") || t.what().startsWith("linearTokenLogProbs targets");
                assertTrue(ok, "line " + s + ": not an edge copy: " + t);
            }
    }

    /** Save on the device (weights and moments copied out) + resume on a fresh device model = the straight run, bit for bit. */
    @Test
    void checkpointOnTheDeviceAndResumeIsExact(@TempDir Path dir) throws Exception {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            List<Example> docs = new ArrayList<>();
            for (int i = 0; i < 12; i++) docs.add(text("d" + i, "doc " + i + ": " + (i * 7) + "+" + i + "=" + (i * 8)));
            Dataset d = new Dataset(docs);
            Map<String, Object> c = cfg("completion_only_loss", false, "template", "toy", "max_steps", 6, "save_steps", 2,
                    "gradient_checkpointing", false);
            CausalLM straight = tinyModel(21).moveTo(new EmulatedDevice(ReferenceBackend.INSTANCE));
            SftTrainer.builder(straight, TOK, SftConfig.of(c)).log(l -> { }).outputDir(dir.resolve("a")).build().train(d, null);
            CausalLM first = tinyModel(21).moveTo(new EmulatedDevice(ReferenceBackend.INSTANCE));
            assertTrue(SftTrainer.builder(first, TOK, SftConfig.of(c)).log(l -> { }).outputDir(dir.resolve("b")).haltAfterStep(3)
                    .build().train(d, null).halted());
            CausalLM resumed = tinyModel(99).moveTo(new EmulatedDevice(ReferenceBackend.INSTANCE));
            SftTrainer.Result r = SftTrainer.builder(resumed, TOK, SftConfig.of(c)).log(l -> { }).outputDir(dir.resolve("b"))
                    .resume(true).build().train(d, null);
            assertEquals(6, r.steps());
            List<Parameter> pa = straight.parameters(), pb = resumed.parameters();
            for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).data(), pb.get(i).data(), pa.get(i).name());
            assertArrayEquals(pb.get(0).data(), CausalLM.load(r.modelDir()).parameters().get(0).data(), "final model saved from the device");
        }
    }

    static void close(String what, double want, double got) {
        assertTrue(Math.abs(want - got) <= 1e-6 + 1e-5 * Math.abs(want), what + ": cpu " + want + ", device " + got);
    }

    static int count(List<Transfers.Transfer> log, String prefix) {
        int n = 0;
        for (Transfers.Transfer t : log) if (t.what().startsWith(prefix)) n++;
        return n;
    }
}
