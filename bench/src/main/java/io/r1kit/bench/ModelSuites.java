package io.r1kit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.Parallel;
import io.r1kit.model.generate.DecodeBenchmark;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;

/**
 * The model-level suites of {@code bench}: {@code train} (whole training steps) and {@code rollout}
 * (greedy decoding with a KV cache), r1kit against libtorch in one process. The rows carry exactly
 * the keys of the published format; everything else (losses and tokens compared, decode-only rates,
 * bandwidth, which GEMM ran) goes in the {@code *_details} arrays and {@code settings}.
 */
final class ModelSuites {
    private ModelSuites() {}

    /**
     * @param tiny test shapes; @param repeats timed repeats per side; @param models model names to run (empty: all)
     * @param batch the one rollout batch size to run (null: all)
     */
    record Settings(boolean quick, boolean tiny, int repeats, List<String> models, Integer batch) {
        boolean runs(String model) {
            return models.isEmpty() || models.contains(model);
        }
    }

    /** Which GEMM each side ran (r1kit has only its pure-Java one; libtorch's official CPU build links MKL). */
    static void putCommonSettings(ObjectNode settings, Settings s) {
        int threads = Parallel.threads();
        JniUtils.setNumThreads(threads);   // same threads on both sides
        settings.put("quick", s.quick()).put("tiny_test_shapes", s.tiny()).put("repeats", s.repeats())
                .put("threads", threads)
                .put("r1kit_gemm", "r1kit pure-Java GEMM (Vector API, " + FloatVector.SPECIES_PREFERRED + ", fp32)")
                .put("libtorch_gemm", "libtorch " + Engine.getEngine("PyTorch").getVersion() + " matmul (MKL sgemm of the official CPU build, fp32)")
                .put("statistic", "median over repeats; r1kit and libtorch interleaved in one process, sides alternating which goes first");
    }

    static void train(Settings s, NDManager nd, ObjectNode root, PrintStream log) throws Exception {
        ObjectNode settings = root.putObject("settings");
        settings.put("suite", "train");
        putCommonSettings(settings, s);
        settings.put("step", "forward, mean cross-entropy over the whole vocabulary, backward, clip_grad_norm 1.0, AdamW (lr 1e-3, wd 0.01), fp32")
                .put("ratio", "r1kit_tokens_per_s / libtorch_tokens_per_s (> 1: r1kit faster)");
        ArrayNode rows = root.putArray("train"), details = root.putArray("train_details");
        List<TrainBench.Case> cases = s.tiny() ? TrainBench.tinyCases() : TrainBench.cases(s.quick());
        for (TrainBench.Case c : cases) {
            if (!s.runs(c.model())) continue;
            boolean big = c.config().parameterCount() > 5_000_000L || s.tiny();
            // a toy step lasts milliseconds: seconds of warm-up and a settle call (see SideBySideTimer);
            // a big step lasts seconds: one warm-up call per side is enough
            SideBySideTimer timer = big ? new SideBySideTimer(0, s.repeats(), 1, false) : new SideBySideTimer(s.quick() ? 2 : 5, s.repeats());
            TrainBench.Row r = TrainBench.run(c, nd, timer, s.tiny() ? 3 : 2, log);
            rows.addObject().put("model", c.model()).put("params", r.params()).put("batch", c.batch()).put("seq_len", c.seqLen())
                    .put("r1kit_tokens_per_s", round(r.r1kitTokensPerSec())).put("libtorch_tokens_per_s", round(r.libtorchTokensPerSec()))
                    .put("ratio", round(r.ratio()));
            ObjectNode d = details.addObject().put("model", c.model()).put("note", c.note())
                    .put("config", describe(c.config()))
                    .put("r1kit_ms_per_step", round(r.r().r1kitMs())).put("libtorch_ms_per_step", round(r.r().libtorchMs()));
            phases(d.putObject("r1kit_last_step_phase_ms"), r.r1kitPhaseMs());
            phases(d.putObject("libtorch_last_step_phase_ms"), r.libtorchPhaseMs());
            ArrayNode a = d.putArray("first_losses_r1kit"), b = d.putArray("first_losses_libtorch");
            r.r1kitLosses().forEach(x -> a.add(round6(x)));
            r.libtorchLosses().forEach(x -> b.add(round6(x)));
            log.printf(Locale.ROOT, "train %s: r1kit %.1f tok/s, libtorch %.1f tok/s, ratio %.3f%n", c.model(),
                    r.r1kitTokensPerSec(), r.libtorchTokensPerSec(), r.ratio());
        }
    }

    static void rollout(Settings s, NDManager nd, ObjectNode root, PrintStream log) throws Exception {
        ObjectNode settings = root.putObject("settings");
        settings.put("suite", "rollout");
        putCommonSettings(settings, s);
        double bw = DecodeBenchmark.memoryBandwidthGBs();
        log.printf(Locale.ROOT, "memory read bandwidth (streaming sum, %d threads): %.1f GB/s%n", Parallel.threads(), bw);
        settings.put("decoding", "greedy, ignore EOS; r1kit: Generator (the GRPO rollout path, log-probs of the chosen tokens included); "
                        + "libtorch: the same greedy loop with its own preallocated KV cache")
                .put("tokens_per_s", "new tokens / time of prefill + decode")
                .put("roofline_fraction", "batch 1 only: decode-only rate x (fp32 weights + k/v cache at its mean length read per token) / memory_bandwidth_gb_per_s")
                .put("memory_bandwidth_gb_per_s", round(bw));
        ArrayNode rows = root.putArray("rollout"), details = root.putArray("rollout_details");
        List<RolloutBench.Case> cases = s.tiny() ? RolloutBench.tinyCases() : RolloutBench.cases(s.quick());
        // the untimed comparison run warms both sides up; --quick times batch 64 once (its prefill alone takes minutes)
        SideBySideTimer timer = new SideBySideTimer(0, s.repeats(), 0, false), big = new SideBySideTimer(0, s.quick() ? 1 : s.repeats(), 0, false);
        settings.put("repeats_batch_64", s.quick() ? 1 : s.repeats());
        for (RolloutBench.Case c : cases) {
            if (!s.runs(c.model())) continue;
            for (RolloutBench.Row r : RolloutBench.run(c, nd, b -> b >= 64 ? big : timer, b -> s.batch() == null || s.batch() == b, bw, log)) {
                ObjectNode o = rows.addObject().put("model", c.model()).put("batch", r.batch()).put("weights", "fp32")
                        .put("r1kit_tokens_per_s", round(r.r1kitTokensPerSec())).put("libtorch_tokens_per_s", round(r.libtorchTokensPerSec()));
                if (r.batch() == 1) o.put("roofline_fraction", round(r.rooflineFraction()));
                else o.putNull("roofline_fraction");
                details.addObject().put("model", c.model()).put("batch", r.batch()).put("note", c.note())
                        .put("config", describe(c.config())).put("prompt_tokens", c.prompt()).put("new_tokens", c.newTokens())
                        .put("r1kit_decode_tokens_per_s", orNull(r.r1kitDecodeTokensPerSec()))
                        .put("libtorch_decode_tokens_per_s", orNull(r.libtorchDecodeTokensPerSec()))
                        .put("r1kit_ms", round(r.full().r1kitMs())).put("libtorch_ms", round(r.full().libtorchMs()))
                        .put("r1kit_prefill_plus_one_token_ms", r.oneToken() == null ? null : round(r.oneToken().r1kitMs()))
                        .put("libtorch_prefill_plus_one_token_ms", r.oneToken() == null ? null : round(r.oneToken().libtorchMs()))
                        .put("bytes_read_per_token_batch1", Math.round(r.bytesPerToken()))
                        .put("greedy_tokens_equal", r.tokensEqual()).put("greedy_tokens_compared", r.tokensCompared());
            }
        }
    }

    private static void phases(ObjectNode o, double[] ms) {
        o.put("forward_and_loss", round(ms[0])).put("backward", round(ms[1])).put("clip", round(ms[2])).put("adamw", round(ms[3]));
    }

    static String describe(ModelConfig c) {
        return String.format(Locale.ROOT, "%s vocab %d hidden %d ffn %d layers %d heads %d/%d head_dim %d %s",
                c.family().modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(),
                c.numKvHeads(), c.headDim(), c.tieEmbeddings() ? "tied" : "untied");
    }

    /** The human-readable form. */
    static String render(ObjectNode root) {
        StringBuilder sb = new StringBuilder();
        JsonNode st = root.get("settings");
        sb.append(String.format(Locale.ROOT, "%s: %d threads, medians of %d interleaved repeats%n  r1kit:    %s%n  libtorch: %s%n",
                st.get("suite").asText(), st.get("threads").asInt(), st.get("repeats").asInt(),
                st.get("r1kit_gemm").asText(), st.get("libtorch_gemm").asText()));
        if (root.has("train")) {
            sb.append(String.format(Locale.ROOT, "  %-30s %13s %6s %8s %14s %14s %7s%n", "model", "params", "batch", "seq_len",
                    "r1kit tok/s", "libtorch tok/s", "ratio"));
            for (JsonNode r : root.get("train")) {
                sb.append(String.format(Locale.ROOT, "  %-30s %,13d %6d %8d %14.1f %14.1f %7.3f%n", r.get("model").asText(),
                        r.get("params").asLong(), r.get("batch").asInt(), r.get("seq_len").asInt(),
                        r.get("r1kit_tokens_per_s").asDouble(), r.get("libtorch_tokens_per_s").asDouble(), r.get("ratio").asDouble()));
            }
        }
        if (root.has("rollout")) {
            sb.append(String.format(Locale.ROOT, "  memory bandwidth %.1f GB/s%n  %-30s %6s %8s %14s %14s %9s%n",
                    st.get("memory_bandwidth_gb_per_s").asDouble(), "model", "batch", "weights", "r1kit tok/s", "libtorch tok/s", "roofline"));
            for (JsonNode r : root.get("rollout")) {
                sb.append(String.format(Locale.ROOT, "  %-30s %6d %8s %14.1f %14.1f %9s%n", r.get("model").asText(), r.get("batch").asInt(),
                        r.get("weights").asText(), r.get("r1kit_tokens_per_s").asDouble(), r.get("libtorch_tokens_per_s").asDouble(),
                        r.get("roofline_fraction").isNull() ? "-" : String.format(Locale.ROOT, "%.3f", r.get("roofline_fraction").asDouble())));
            }
        }
        return sb.toString();
    }

    static Double orNull(double x) {
        return Double.isNaN(x) ? null : round(x);
    }

    static double round(double x) {
        return Math.round(x * 1000.0) / 1000.0;
    }

    static double round6(double x) {
        return Math.round(x * 1e6) / 1e6;
    }
}
