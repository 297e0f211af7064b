package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A multi-token-prediction module as DeepSeek-V3 stores it, at layer index num_hidden_layers + d:
 * {@code enorm}, {@code hnorm}, {@code eh_proj} [C, 2C], a full decoder block, {@code shared_head.norm};
 * its {@code embed_tokens} and {@code shared_head.head} are copies of the main model's embedding and
 * lm_head (shared in V3, so r1kit ties them and writes the copies on save).
 * <pre>
 *   h'  = eh_proj([enorm(emb(t_{i+d+1})); hnorm(h_i)])        (the order vLLM's DeepSeekMTP uses)
 *   h'' = block(h'),  logits = head(shared_head.norm(h''))     predicting t_{i+d+2}
 * </pre>
 * h_i is the previous depth's output (the main model's last hidden state before model.norm for d = 0).
 */
public final class MtpModule {
    private final ModelConfig cfg;
    final int layerIndex;
    final Parameter enorm, hnorm, ehProj, headNorm;
    final DeepseekV3Layer block;
    private boolean bf16;

    MtpModule(ModelConfig c, int layerIndex, RandomGenerator rng) {
        this.cfg = c;
        this.layerIndex = layerIndex;
        int C = c.hiddenSize();
        String p = "model.layers." + layerIndex + ".";
        block = new DeepseekV3Layer(c, layerIndex, rng);
        enorm = DecoderLayer.ones(p + "enorm.weight", C);
        hnorm = DecoderLayer.ones(p + "hnorm.weight", C);
        ehProj = DecoderLayer.mat(p + "eh_proj.weight", rng, (float) c.initStd(), C, 2 * C);
        headNorm = DecoderLayer.ones(p + "shared_head.norm.weight", C);
    }

    /** Names of the tied copies this module's layer carries in a checkpoint. */
    String embedCopyName() {
        return "model.layers." + layerIndex + ".embed_tokens.weight";
    }

    String headCopyName() {
        return "model.layers." + layerIndex + ".shared_head.head.weight";
    }

    /** Trainable parameters in the order DeepSeek's checkpoints list them (block, then the module's own). */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(block.parameters());
        ps.add(enorm);
        ps.add(hnorm);
        ps.add(ehProj);
        ps.add(headNorm);
        return ps;
    }

    /** Mixed precision on or off: the block's projections and eh_proj read bf16 weight copies. */
    void bf16(boolean on) {
        block.bf16(on);
        ehProj.readBf16Copy(on);
        bf16 = on;
    }

    DeepseekV3Layer block() {
        return block;
    }

    /**
     * prev [B, T, C] hidden states, nextEmb [B, T, C] embeddings of the tokens one ahead → the
     * module's hidden state [B, T, C] (before shared_head.norm).
     */
    Tensor forward(Tensor prev, Tensor nextEmb, int B, int T, int[] pos, byte[] keyMask, RopeTables rope) {
        float eps = (float) cfg.rmsEps();
        Tensor in = F.concat(List.of(F.rmsNorm(nextEmb, enorm, eps), F.rmsNorm(prev, hnorm, eps)), 2);
        return block.forward(F.linear(SwiGluMlp.gemmInput(in, bf16), ehProj), B, T, pos, keyMask, rope);
    }

    /** shared_head.norm of the module's hidden state (the lm head is then applied by the caller). */
    Tensor headInput(Tensor h) {
        return F.rmsNorm(h, headNorm, (float) cfg.rmsEps());
    }
}
