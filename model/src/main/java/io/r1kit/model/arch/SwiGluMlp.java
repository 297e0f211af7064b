package io.r1kit.model.arch;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * transformers' DeepseekV3MLP: down_proj(silu(gate_proj(x)) · up_proj(x)), no biases; {@code prefix} ends with a dot.
 * In bf16 precision (a device model) the three projections read their weights' bf16 copies and the
 * activation between them is stored in bf16, as {@link DecoderLayer}'s MLP does.
 */
final class SwiGluMlp {
    final Parameter gate, up, down;
    private boolean bf16;

    SwiGluMlp(String prefix, int hidden, int width, RandomGenerator rng, float std) {
        gate = DecoderLayer.mat(prefix + "gate_proj.weight", rng, std, width, hidden);
        up = DecoderLayer.mat(prefix + "up_proj.weight", rng, std, width, hidden);
        down = DecoderLayer.mat(prefix + "down_proj.weight", rng, std, hidden, width);
    }

    List<Parameter> parameters() {
        return List.of(gate, up, down);
    }

    void bf16(boolean on) {
        bf16 = on;
        for (Parameter w : parameters()) w.readBf16Copy(on);
    }

    boolean bf16() {
        return bf16;
    }

    /**
     * x [..., C] → [..., C]. {@code ownsInput}: only this MLP's GEMMs read x, so in bf16 precision
     * it may be stored in bf16 (what their backward saves); false when other ops read it too.
     */
    Tensor forward(Tensor x, boolean ownsInput) {
        Tensor in = ownsInput ? gemmInput(x, bf16) : x;
        return F.linear(gemmInput(F.swiglu(F.linear(in, gate), F.linear(in, up)), bf16), down);
    }

    /** In bf16 precision, a device tensor that only GEMMs read is stored in bf16; otherwise unchanged. */
    static Tensor gemmInput(Tensor t, boolean bf16) {
        return bf16 && t.isOnDevice() ? t.storeAsBf16() : t;
    }
}
