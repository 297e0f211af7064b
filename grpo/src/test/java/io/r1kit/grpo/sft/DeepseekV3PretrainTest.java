package io.r1kit.grpo.sft;

import static io.r1kit.grpo.sft.SftTestSupport.TOK;
import static io.r1kit.grpo.sft.SftTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pretraining a tiny DeepSeek-V3 (MLA + DeepSeekMoE + one MTP module) with the SFT trainer:
 * auxiliary-loss-free balancing evens the expert load (and the same run without the bias update
 * does not), the MoE metrics are logged every line, the MTP loss trains the MTP module, and a
 * resumed run reproduces weights and correction biases exactly.
 */
class DeepseekV3PretrainTest {
    @TempDir
    Path tmp;

    static CausalLM tinyDeepseek(long seed) {
        DeepseekV3Params d = DeepseekV3Params.smallDefaults(32, 2, 64);
        ModelConfig c = ModelConfig.deepseekV3(TOK.vocabSize(), 32, 64, 2, 2, d).withRope(10000.0, RopeTables.Scaling.none(), 128);
        return CausalLM.random(c, seed);
    }

    static Dataset docs() {
        List<Example> docs = new ArrayList<>();
        for (int i = 0; i < 48; i++) docs.add(text("d" + i, "doc " + i + ": " + (i * 7) + "+" + i + "=" + (i * 8) + ".".repeat(i % 5)));
        return new Dataset(docs);
    }

    static Map<String, Object> cfg(double gamma, int steps) {
        return SftTestSupport.kv("completion_only_loss", false, "packing", true, "max_seq_length", 48, "batch_size", 4,
                "max_steps", steps, "learning_rate", 3e-3, "lr_scheduler", "constant", "logging_steps", 5, "save_steps", 0,
                "bias_update_speed", gamma, "mtp_loss_weight", 0.3);
    }

    private static List<JsonNode> run(CausalLM m, Map<String, Object> cfg, Path dir) {
        SftTrainer.builder(m, TOK, SftConfig.of(cfg)).log(s -> { }).outputDir(dir).stage("pretrain").build().train(docs(), null);
        return MetricsLog.read(dir.resolve(SftTrainer.METRICS_FILE));
    }

    /** max/mean expert load over the last {@code k} logged lines (each line: the load of its step). */
    private static double tailMaxOverMean(List<JsonNode> lines, int k) {
        double s = 0;
        int n = 0;
        for (int i = lines.size() - k; i < lines.size(); i++) {
            s += lines.get(i).get("moe/load_max_over_mean").asDouble();
            n++;
        }
        return s / n;
    }

    @Test
    void biasUpdateBalancesTheExperts() {
        List<JsonNode> on = run(tinyDeepseek(5), cfg(0.01, 120), tmp.resolve("on"));
        List<JsonNode> off = run(tinyDeepseek(5), cfg(0.0, 120), tmp.resolve("off"));
        for (JsonNode l : on) {
            for (String k : List.of("moe/load_max_over_mean", "moe/load_min_over_mean", "moe/bias_abs_mean", "moe/dropped_tokens"))
                assertTrue(l.has(k), "metrics line has " + k + ": " + l);
            assertEquals(0, l.get("moe/dropped_tokens").asLong());
        }
        double balanced = tailMaxOverMean(on, 4), unbalanced = tailMaxOverMean(off, 4);
        System.out.println("deepseek_v3 toy pretraining: load max/mean over the last 4 logged steps, bias update on "
                + balanced + ", off " + unbalanced);
        assertTrue(balanced <= 1.5, "with the bias update max/mean load is " + balanced);
        assertTrue(balanced < unbalanced, "bias update on " + balanced + " vs off " + unbalanced);
        assertEquals(0.0, off.get(off.size() - 1).get("moe/bias_abs_mean").asDouble(), "γ = 0 leaves the bias at 0");
        assertTrue(on.get(on.size() - 1).get("loss").asDouble() < on.get(0).get("loss").asDouble(), "loss falls");
    }

    @Test
    void mtpLossTrainsTheMtpModuleAndZeroWeightLeavesItAlone() {
        CausalLM with = tinyDeepseek(7), without = tinyDeepseek(7);
        Map<String, Object> c = cfg(0.001, 6);
        run(with, c, tmp.resolve("mtp"));
        Map<String, Object> c0 = new java.util.LinkedHashMap<>(c);
        c0.put("mtp_loss_weight", 0.0);
        run(without, c0, tmp.resolve("nomtp"));
        CausalLM init = tinyDeepseek(7);
        Parameter eh = with.mtpModules().get(0).parameters().stream().filter(p -> p.name().endsWith("eh_proj.weight")).findFirst().orElseThrow();
        Parameter eh0 = without.mtpModules().get(0).parameters().stream().filter(p -> p.name().endsWith("eh_proj.weight")).findFirst().orElseThrow();
        Parameter ehInit = init.mtpModules().get(0).parameters().stream().filter(p -> p.name().endsWith("eh_proj.weight")).findFirst().orElseThrow();
        assertTrue(!java.util.Arrays.equals(eh.data(), ehInit.data()), "λ > 0: the MTP module is trained");
        assertArrayEquals(ehInit.data(), eh0.data(), "λ = 0: no gradient reaches the MTP module (no weight decay here)");
    }

    @Test
    void resumeIsExactIncludingCorrectionBiases() {
        Map<String, Object> cfg = cfg(0.01, 12);
        cfg.put("save_steps", 3);
        CausalLM straight = tinyDeepseek(21);
        SftTrainer.builder(straight, TOK, SftConfig.of(cfg)).log(s -> { }).outputDir(tmp.resolve("a")).stage("pretrain").build().train(docs(), null);
        CausalLM first = tinyDeepseek(21);
        SftTrainer.builder(first, TOK, SftConfig.of(cfg)).log(s -> { }).outputDir(tmp.resolve("b")).stage("pretrain").haltAfterStep(7)
                .build().train(docs(), null);
        CausalLM resumed = tinyDeepseek(99);
        SftTrainer.builder(resumed, TOK, SftConfig.of(cfg)).log(s -> { }).outputDir(tmp.resolve("b")).stage("pretrain").resume(true)
                .build().train(docs(), null);
        List<Parameter> pa = straight.parameters(), pb = resumed.parameters();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).data(), pb.get(i).data(), pa.get(i).name());
        List<Parameter> ba = straight.buffers(), bb = resumed.buffers();
        assertTrue(!ba.isEmpty());
        for (int i = 0; i < ba.size(); i++) assertArrayEquals(ba.get(i).data(), bb.get(i).data(), ba.get(i).name());
    }
}
