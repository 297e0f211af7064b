package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.ops.F;
import io.r1kit.model.testing.TorchRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DeepSeek-V3 config.json parsing (DeepSeek-V3's published keys, defaults, strict errors) and
 * checkpoints in the HF layout: MTP modules at layer index num_hidden_layers with their embedding /
 * head copies, e_score_correction_bias, F32 bit-exact and BF16 round trips, and the logits of a
 * BF16 checkpoint against the libtorch reference built from the tensors in the files.
 */
class DeepseekV3CheckpointTest {
    @TempDir
    Path tmp;

    static final ObjectMapper JSON = new ObjectMapper();

    /** DeepSeek-V3's config.json with the sizes shrunk (keys and their spelling as released). */
    static ObjectNode v3Config() throws IOException {
        return (ObjectNode) JSON.readTree("""
                {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
                 "vocab_size": 67, "hidden_size": 48, "intermediate_size": 64, "moe_intermediate_size": 16,
                 "num_hidden_layers": 3, "num_nextn_predict_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
                 "n_shared_experts": 1, "n_routed_experts": 8, "routed_scaling_factor": 2.5, "kv_lora_rank": 16,
                 "q_lora_rank": 24, "qk_rope_head_dim": 8, "v_head_dim": 12, "qk_nope_head_dim": 8,
                 "topk_method": "noaux_tc", "n_group": 4, "topk_group": 2, "num_experts_per_tok": 2,
                 "moe_layer_freq": 1, "first_k_dense_replace": 1, "norm_topk_prob": true, "scoring_func": "sigmoid",
                 "hidden_act": "silu", "max_position_embeddings": 256, "initializer_range": 0.02, "rms_norm_eps": 1e-06,
                 "use_cache": true, "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false,
                 "rope_theta": 10000, "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 4, "mscale": 1.0,
                   "mscale_all_dim": 0.8, "original_max_position_embeddings": 64, "type": "yarn"},
                 "attention_bias": false, "attention_dropout": 0.0, "torch_dtype": "bfloat16"}
                """);
    }

    @Test
    void parsesEveryDeepseekKey() throws IOException {
        HfModelConfig c = HfModelConfig.fromJson(v3Config(), Path.of("config.json"));
        assertEquals(HfModelConfig.Architecture.DEEPSEEK_V3, c.architecture());
        DeepseekV3Params d = c.deepseek();
        assertEquals(new DeepseekV3Params(24, 16, 8, 8, 12, true, 8, 1, 2, 4, 2, 2.5, true, 1, 16, 1, 0), d);
        assertEquals(8, c.headDim(), "head_dim is qk_rope_head_dim");
        assertEquals("yarn", c.ropeScaling().type());
        assertEquals(4.0, c.ropeScaling().factor());
        assertEquals(64, c.ropeScaling().originalMaxPositionEmbeddings());
        assertEquals(new HfModelConfig.Yarn(1.0, 0.8, 32, 1, Double.NaN), c.ropeScaling().yarn());
        ModelConfig mc = ModelConfig.fromHf(c, Path.of("config.json"));
        assertEquals(DeepseekV3TestModels.qloraYarnMtp(), mc, "the same model as the test config built in code");

        ObjectNode plain = v3Config();
        plain.putNull("q_lora_rank");
        plain.remove("rope_interleave");
        assertFalse(HfModelConfig.fromJson(plain, Path.of("c")).deepseek().hasQLora(), "q_lora_rank null = plain q_proj");
        assertTrue(HfModelConfig.fromJson(plain, Path.of("c")).deepseek().ropeInterleave(), "rope_interleave defaults to true");
        plain.remove("q_lora_rank");
        assertEquals(1536, HfModelConfig.fromJson(plain, Path.of("c")).deepseek().qLoraRank(), "absent: DeepseekV3Config's default");

        // toJson → fromJson reproduces the config
        HfModelConfig again = HfModelConfig.fromJson(c.toJson(), Path.of("c"));
        assertEquals(c.deepseek(), again.deepseek());
        assertEquals(c.ropeScaling(), again.ropeScaling());
        assertNull(c.toJson().get("head_dim"));
    }

    private static String error(ObjectNode json) {
        return assertThrows(CheckpointException.class, () -> HfModelConfig.fromJson(json, Path.of("dir/config.json"))).getMessage();
    }

    @Test
    void rejectsWhatIsNotImplementedNamingTheKey() throws IOException {
        ObjectNode j = v3Config();
        j.put("scoring_func", "softmax");
        assertTrue(error(j).contains("scoring_func") && error(j).contains("softmax"), error(j));
        j = v3Config();
        j.put("topk_method", "greedy");
        assertTrue(error(j).contains("topk_method"), error(j));
        j = v3Config();
        j.put("n_group", 3);
        assertTrue(error(j).contains("n_routed_experts (8) must be a multiple of n_group (3)"), error(j));
        j = v3Config();
        j.put("topk_group", 5);
        assertTrue(error(j).contains("topk_group"), error(j));
        j = v3Config();
        j.put("num_experts_per_tok", 5);
        assertTrue(error(j).contains("num_experts_per_tok (5)"), error(j));
        j = v3Config();
        j.put("num_key_value_heads", 2);
        assertTrue(error(j).contains("num_key_value_heads"), error(j));
        j = v3Config();
        j.put("head_dim", 16);
        assertTrue(error(j).contains("head_dim") && error(j).contains("qk_rope_head_dim"), error(j));
        j = v3Config();
        j.put("attention_bias", true);
        assertTrue(error(j).contains("attention_bias"), error(j));
        j = v3Config();
        j.put("kv_lora_rank", "512");
        assertTrue(error(j).contains("kv_lora_rank") && error(j).contains("integer"), error(j));
        j = v3Config();
        ((ObjectNode) j.get("rope_scaling")).put("factor", 0.5);
        assertTrue(error(j).contains("rope_scaling.factor"), error(j));
        assertTrue(error(j).contains("dir/config.json"), "errors name the file: " + error(j));
    }

    static float[] logits(CausalLM m) {
        int[] ids = ArchTestSupport.randomIds(3, 14, m.config().vocabSize());
        try (var ng = Grad.noGrad()) {
            return m.forward(ids, 2, 7, null, null).data();
        }
    }

    static Map<String, float[]> tensors(Path dir) throws IOException {
        Map<String, float[]> out = new HashMap<>();
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            for (String n : ck.tensorNames()) out.put(n, ck.load(n));
        }
        return out;
    }

    @Test
    void f32RoundTripKeepsMtpModulesAndCorrectionBias() throws IOException {
        ModelConfig cfg = DeepseekV3TestModels.qloraYarnMtp();
        CausalLM m = DeepseekV3TestModels.model(cfg, 5);
        Path dir = tmp.resolve("f32");
        m.save(dir, DType.F32);
        Map<String, float[]> files = tensors(dir);
        Set<String> expected = new HashSet<>();
        for (NamedTensor t : m.namedTensors()) expected.add(t.name());
        assertEquals(expected, files.keySet());
        int L = cfg.numLayers();
        for (String n : List.of("enorm.weight", "hnorm.weight", "eh_proj.weight", "shared_head.norm.weight", "embed_tokens.weight",
                "shared_head.head.weight", "self_attn.kv_b_proj.weight", "mlp.gate.e_score_correction_bias", "mlp.experts.7.down_proj.weight",
                "mlp.shared_experts.up_proj.weight", "input_layernorm.weight")) {
            assertTrue(files.containsKey("model.layers." + L + "." + n), "MTP module tensor " + n + " at layer index " + L);
        }
        assertTrue(files.containsKey("model.layers.0.mlp.gate_proj.weight"), "first_k_dense_replace: layer 0 is dense");
        assertTrue(files.containsKey("model.layers.1.mlp.gate.e_score_correction_bias"));
        assertArrayEquals(files.get("lm_head.weight"), files.get("model.layers." + L + ".shared_head.head.weight"));

        CausalLM back = CausalLM.load(dir);
        assertEquals(cfg, back.config());
        assertArrayEquals(logits(m), logits(back), "bit-identical logits");
        for (int i = 0; i < m.buffers().size(); i++) assertArrayEquals(m.buffers().get(i).data(), back.buffers().get(i).data());
        Path again = tmp.resolve("again");
        back.save(again, DType.F32);
        Map<String, float[]> files2 = tensors(again);
        for (String n : files.keySet()) assertArrayEquals(files.get(n), files2.get(n), "read → write → read: " + n);
    }

    @Test
    void bf16CheckpointLogprobsMatchTheReference() throws IOException {
        for (ModelConfig cfg : List.of(DeepseekV3TestModels.qloraYarnMtp(), DeepseekV3TestModels.plainQ())) {
            CausalLM m = DeepseekV3TestModels.model(cfg, 7);
            Path dir = tmp.resolve("bf16-" + cfg.deepseek().hasQLora());
            m.save(dir, DType.BF16);
            CausalLM back = CausalLM.load(dir);
            Map<String, float[]> files = tensors(dir);
            int B = 2, T = 10;
            int[] ids = ArchTestSupport.randomIds(9, B * T, cfg.vocabSize());
            float[] ours;
            try (var ng = Grad.noGrad()) {
                ours = back.forward(ids, B, T, null, null).data();
            }
            try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
                float[] ref = TorchDeepseekV3.of(nd, cfg, files).logits(ids, B, T, F.positions(B, T), null)
                        .toType(DataType.FLOAT32, false).toFloatArray();
                TorchRef.assertClose("bf16 checkpoint logits", ref, ours, 2e-3, 0);
            }
        }
    }

    @Test
    void mtpCopiesAreRequiredAndMustEqualTheMainTensors() throws IOException {
        CausalLM m = DeepseekV3TestModels.model(DeepseekV3TestModels.qloraYarnMtp(), 8);
        Path dir = tmp.resolve("bad");
        List<NamedTensor> ts = new ArrayList<>();
        for (NamedTensor t : m.namedTensors()) {
            if (t.name().endsWith("3.shared_head.head.weight")) {
                float[] d = t.data().clone();
                d[0] += 1;
                ts.add(new NamedTensor(t.name(), t.shape(), d));
            } else {
                ts.add(t);
            }
        }
        m.writer().dtype(DType.F32).save(dir, ts);
        String msg = assertThrows(CheckpointException.class, () -> CausalLM.load(dir)).getMessage();
        assertTrue(msg.contains("model.layers.3.shared_head.head.weight") && msg.contains("differs from lm_head.weight"), msg);

        Path dir2 = tmp.resolve("missing");
        m.writer().dtype(DType.F32).save(dir2, m.namedTensors().stream().filter(t -> !t.name().endsWith("3.enorm.weight")).toList());
        msg = assertThrows(CheckpointException.class, () -> CausalLM.load(dir2)).getMessage();
        assertTrue(msg.contains("model.layers.3.enorm.weight") && msg.contains("missing"), msg);

        // a config without MTP but a checkpoint with it: the MTP tensors are unexpected
        Path dir3 = tmp.resolve("nomtp");
        m.save(dir3, DType.F32);
        ObjectNode json = (ObjectNode) JSON.readTree(Files.readString(dir3.resolve("config.json")));
        json.put("num_nextn_predict_layers", 0);
        Files.writeString(dir3.resolve("config.json"), json.toString());
        msg = assertThrows(CheckpointException.class, () -> CausalLM.load(dir3)).getMessage();
        assertTrue(msg.contains("model.layers.3.") && msg.contains("num_nextn_predict_layers"), msg);
    }
}
