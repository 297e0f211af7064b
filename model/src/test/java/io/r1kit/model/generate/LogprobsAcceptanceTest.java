package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1kit.model.arch.TorchCausalLM;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance check of {@code r1kit logprobs} ({@link LogprobsJsonl}, which the CLI command
 * calls unchanged): random tiny Llama (llama3 rope scaling, untied), Qwen2 (biases, tied) and
 * Qwen3 (q/k norm, explicit head_dim) checkpoints written here WITHOUT r1kit code (hand-assembled
 * safetensors bytes, hand-written config.json and index, a minimal WordLevel tokenizer.json), in
 * F32 single-file, BF16 sharded (and F16 sharded for Llama) layouts, scored by r1kit and by an independent float64 libtorch
 * forward ({@link TorchCausalLM}) of the same weights.
 */
class LogprobsAcceptanceTest {
    /** The contract: 1e-3 for F32 files, 2e-3 for BF16 files. */
    static final double CONTRACT_F32 = 1e-3, CONTRACT_BF16 = 2e-3;
    /**
     * Tighter check: both sides read the same (exactly representable) weights, so the only difference is
     * float32 vs float64 arithmetic, observed ~5e-6; 1e-4 leaves 20× headroom and still catches any
     * real mismatch (a wrong rope, mask or norm moves log-probs by ≫ 1e-2).
     */
    static final double TIGHT = 1e-4;
    static final int V = 40;

    static NDManager manager;
    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** One architecture as config.json text plus the hyper-parameters the torch reference needs. */
    record Arch(String name, String configJson, int hidden, int ffn, int layers, int heads, int kv, int headDim,
                boolean tie, boolean qkvBias, boolean qkNorm, double theta, double eps, boolean llama3) {}

    static List<Arch> archs() {
        String common = "\"vocab_size\": " + V + ", \"num_hidden_layers\": 2, \"max_position_embeddings\": 128, \"hidden_act\": \"silu\", ";
        return List.of(
                new Arch("llama", "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", " + common
                        + "\"hidden_size\": 32, \"intermediate_size\": 64, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                        + "\"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, "
                        + "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 32}, "
                        + "\"tie_word_embeddings\": false, \"attention_bias\": false, \"mlp_bias\": false, \"torch_dtype\": \"float32\"}",
                        32, 64, 2, 4, 2, 8, false, false, false, 500000.0, 1e-5, true),
                new Arch("qwen2", "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", " + common
                        + "\"hidden_size\": 32, \"intermediate_size\": 48, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
                        + "\"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"tie_word_embeddings\": true, \"use_sliding_window\": false, "
                        + "\"torch_dtype\": \"bfloat16\"}",
                        32, 48, 2, 4, 2, 8, true, true, false, 1e6, 1e-6, false),
                new Arch("qwen3", "{\"architectures\": [\"Qwen3ForCausalLM\"], \"model_type\": \"qwen3\", " + common
                        + "\"hidden_size\": 32, \"intermediate_size\": 48, \"num_attention_heads\": 4, \"num_key_value_heads\": 1, "
                        + "\"head_dim\": 16, \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"tie_word_embeddings\": false, "
                        + "\"attention_bias\": false, \"torch_dtype\": \"bfloat16\"}",
                        32, 48, 2, 4, 1, 16, false, false, true, 1e6, 1e-6, false));
    }

    /** name → shape, in HF order, built from the architecture description alone. */
    static Map<String, int[]> shapes(Arch a) {
        Map<String, int[]> s = new LinkedHashMap<>();
        int C = a.hidden, D = a.headDim;
        s.put("model.embed_tokens.weight", new int[] {V, C});
        for (int l = 0; l < a.layers; l++) {
            String p = "model.layers." + l + ".";
            s.put(p + "self_attn.q_proj.weight", new int[] {a.heads * D, C});
            if (a.qkvBias) s.put(p + "self_attn.q_proj.bias", new int[] {a.heads * D});
            s.put(p + "self_attn.k_proj.weight", new int[] {a.kv * D, C});
            if (a.qkvBias) s.put(p + "self_attn.k_proj.bias", new int[] {a.kv * D});
            s.put(p + "self_attn.v_proj.weight", new int[] {a.kv * D, C});
            if (a.qkvBias) s.put(p + "self_attn.v_proj.bias", new int[] {a.kv * D});
            s.put(p + "self_attn.o_proj.weight", new int[] {C, a.heads * D});
            if (a.qkNorm) {
                s.put(p + "self_attn.q_norm.weight", new int[] {D});
                s.put(p + "self_attn.k_norm.weight", new int[] {D});
            }
            s.put(p + "mlp.gate_proj.weight", new int[] {a.ffn, C});
            s.put(p + "mlp.up_proj.weight", new int[] {a.ffn, C});
            s.put(p + "mlp.down_proj.weight", new int[] {C, a.ffn});
            s.put(p + "input_layernorm.weight", new int[] {C});
            s.put(p + "post_attention_layernorm.weight", new int[] {C});
        }
        s.put("model.norm.weight", new int[] {C});
        if (!a.tie) s.put("lm_head.weight", new int[] {V, C});
        return s;
    }

    static Map<String, float[]> randomWeights(Map<String, int[]> shapes, long seed, String dtype) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> w = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            int n = 1;
            for (int d : e.getValue()) n *= d;
            float[] v = new float[n];
            boolean norm = e.getKey().endsWith("norm.weight"), bias = e.getKey().endsWith(".bias");
            for (int i = 0; i < n; i++) {
                float x = (float) (norm ? 1 + 0.2 * r.nextGaussian() : bias ? 0.2 * r.nextGaussian() : 0.2 * r.nextGaussian());
                v[i] = switch (dtype) {
                    case "BF16" -> Float.intBitsToFloat(bf16Bits(x) << 16);
                    case "F16" -> Float.float16ToFloat(Float.floatToFloat16(x));
                    default -> x;
                };
            }
            w.put(e.getKey(), v);
        }
        return w;
    }

    static int bf16Bits(float f) {
        int b = Float.floatToRawIntBits(f);
        return ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    /** A safetensors file assembled byte by byte: u64 LE header length, JSON header (space-padded to 8), data. */
    static void writeSafetensors(Path file, List<String> names, Map<String, int[]> shapes, Map<String, float[]> w, String dtype)
            throws IOException {
        boolean half = !dtype.equals("F32");
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (String n : names) {
            float[] v = w.get(n);
            ByteBuffer bb = ByteBuffer.allocate(v.length * (half ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) {
                switch (dtype) {
                    case "BF16" -> bb.putShort((short) bf16Bits(x));
                    case "F16" -> bb.putShort(Float.floatToFloat16(x));
                    default -> bb.putFloat(x);
                }
            }
            long start = data.size();
            data.write(bb.array());
            StringBuilder shape = new StringBuilder();
            for (int d : shapes.get(n)) shape.append(shape.length() == 0 ? "" : ",").append(d);
            h.append(",\"").append(n).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":[")
                    .append(shape).append("],\"data_offsets\":[").append(start).append(",").append(data.size()).append("]}");
        }
        h.append("}");
        while (h.length() % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(len.array());
        all.write(header);
        all.write(data.toByteArray());
        Files.write(file, all.toByteArray());
    }

    static void writeCheckpoint(Path dir, Arch a, Map<String, int[]> shapes, Map<String, float[]> w, String dtype, boolean sharded)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), a.configJson);
        List<String> names = new ArrayList<>(shapes.keySet());
        if (!sharded) {
            writeSafetensors(dir.resolve("model.safetensors"), names, shapes, w, dtype);
        } else {
            int half = names.size() / 2;
            List<List<String>> parts = List.of(names.subList(0, half), names.subList(half, names.size()));
            StringBuilder idx = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
            for (int i = 0; i < 2; i++) {
                String f = String.format("model-%05d-of-%05d.safetensors", i + 1, 2);
                writeSafetensors(dir.resolve(f), parts.get(i), shapes, w, dtype);
                for (String n : parts.get(i)) idx.append(idx.charAt(idx.length() - 1) == '{' ? "" : ", ").append('"').append(n).append("\": \"").append(f).append('"');
            }
            idx.append("}}");
            Files.writeString(dir.resolve("model.safetensors.index.json"), idx.toString());
        }
        // minimal WordLevel tokenizer: "w0".."w{V-1}", whitespace pre-tokenizer
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < V; i++) vocab.append(i == 0 ? "" : ",").append("\"w").append(i).append("\":").append(i);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":null,\"decoder\":null,"
                + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"w0\"}}");
    }

    static TorchCausalLM reference(Arch a, Map<String, float[]> w) {
        TorchCausalLM t = new TorchCausalLM(manager, w);
        t.family = a.name;
        t.vocab = V;
        t.hidden = a.hidden;
        t.layers = a.layers;
        t.heads = a.heads;
        t.kvHeads = a.kv;
        t.headDim = a.headDim;
        t.ffn = a.ffn;
        t.theta = a.theta;
        t.eps = a.eps;
        t.tie = a.tie;
        t.qkvBias = a.qkvBias;
        t.qkNorm = a.qkNorm;
        if (a.llama3) {
            t.ropeType = "llama3";
            t.ropeFactor = 8;
            t.ropeLow = 1;
            t.ropeHigh = 4;
            t.ropeOrigMax = 32;
        }
        return t;
    }

    static double[] referenceLogprobs(TorchCausalLM ref, int[] prompt, int[] completion) {
        int T = prompt.length + completion.length;
        int[] ids = new int[T], targets = new int[T];
        java.util.Arrays.fill(targets, -1);
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(completion, 0, ids, prompt.length, completion.length);
        for (int j = 0; j < completion.length; j++) targets[prompt.length - 1 + j] = completion[j];
        int[] pos = new int[T];
        for (int t = 0; t < T; t++) pos[t] = t;
        NDArray logits = ref.logits(ids, 1, T, pos, null).reshape(T, V);
        double[] all = TorchCausalLM.tokenLogProbs(logits, targets, 1.0);
        return java.util.Arrays.copyOfRange(all, prompt.length - 1, prompt.length - 1 + completion.length);
    }

    @Test
    void logprobsAgreeWithAnIndependentImplementation() throws IOException {
        ObjectMapper om = new ObjectMapper();
        SplittableRandom r = new SplittableRandom(42);
        List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
        int[][] lens = {{1, 6}, {5, 9}, {12, 3}, {3, 1}, {7, 0}};
        for (int[] l : lens) {
            int[] p = new int[l[0]], c = new int[l[1]];
            for (int i = 0; i < p.length; i++) p[i] = r.nextInt(V);
            for (int i = 0; i < c.length; i++) c[i] = r.nextInt(V);
            prompts.add(p);
            completions.add(c);
        }
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < prompts.size(); i++) {
            in.append("{\"prompt_ids\":").append(om.writeValueAsString(prompts.get(i))).append(",\"completion_ids\":")
                    .append(om.writeValueAsString(completions.get(i))).append(",\"id\":").append(i).append("}\n");
        }
        // text form: WordLevel words map straight to ids (no special tokens are added: the tokenizer has none)
        in.append("{\"prompt\":\"w3 w17 w5\",\"completion\":\"w9 w1 w30\"}\n");
        prompts.add(new int[] {3, 17, 5});
        completions.add(new int[] {9, 1, 30});
        Path input = tmp.resolve("in.jsonl");
        Files.writeString(input, in.toString());

        int run = 0;
        for (Arch a : archs()) {
            // F32 single file, BF16 sharded, and (Llama only) F16 sharded
            for (String dtype : a.name.equals("llama") ? new String[] {"F32", "BF16", "F16"} : new String[] {"F32", "BF16"}) {
                boolean sharded = !dtype.equals("F32"), halfPrecision = !dtype.equals("F32");
                Map<String, int[]> shapes = shapes(a);
                Map<String, float[]> w = randomWeights(shapes, 100 + run, dtype);
                Path dir = tmp.resolve(a.name + "-" + dtype + (sharded ? "-sharded" : ""));
                writeCheckpoint(dir, a, shapes, w, dtype, sharded);
                Path out = tmp.resolve("out-" + run + ".jsonl");
                assertEquals(prompts.size(), LogprobsJsonl.run(dir, input, out, 2, 1f));
                List<String> lines = Files.readAllLines(out);
                assertEquals(prompts.size(), lines.size());
                TorchCausalLM ref = reference(a, w);
                double contract = halfPrecision ? CONTRACT_BF16 : CONTRACT_F32;   // F16 files get the BF16 bound
                for (int i = 0; i < lines.size(); i++) {
                    JsonNode o = om.readTree(lines.get(i));
                    if (i < lens.length) assertEquals(i, o.get("id").asInt(), "input keys are kept");
                    JsonNode lp = o.get("logprobs");
                    double[] exp = referenceLogprobs(ref, prompts.get(i), completions.get(i));
                    assertEquals(exp.length, lp.size(), dir + " line " + i + ": one log-prob per completion token");
                    for (int j = 0; j < exp.length; j++) {
                        double got = lp.get(j).asDouble(), err = Math.abs(got - exp[j]);
                        assertTrue(err <= contract, dir + " line " + i + " token " + j + ": " + got + " vs " + exp[j] + " (contract " + contract + ")");
                        assertTrue(err <= TIGHT, dir + " line " + i + " token " + j + ": " + got + " vs " + exp[j] + " (tight " + TIGHT + ")");
                        assertTrue(exp[j] < 0);
                    }
                }
                run++;
            }
        }
    }

    @Test
    void badInputNamesTheLine() throws IOException {
        Arch a = archs().get(0);
        Map<String, int[]> shapes = shapes(a);
        Path dir = tmp.resolve("m");
        writeCheckpoint(dir, a, shapes, randomWeights(shapes, 1, "F32"), "F32", false);
        Path input = tmp.resolve("bad.jsonl");
        Files.writeString(input, "{\"prompt_ids\":[1,2],\"completion_ids\":[3]}\n{\"prompt_ids\":[1],\"completion_ids\":[" + V + "]}\n");
        IOException e = assertThrows(IOException.class, () -> LogprobsJsonl.run(dir, input, tmp.resolve("o.jsonl"), 4, 1f));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains(String.valueOf(V)), e.getMessage());
        Files.writeString(input, "{\"text\":\"hello\"}\n");
        e = assertThrows(IOException.class, () -> LogprobsJsonl.run(dir, input, tmp.resolve("o.jsonl"), 4, 1f));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("prompt_ids"), e.getMessage());
    }
}
