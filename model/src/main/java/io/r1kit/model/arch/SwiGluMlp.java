package io.r1kit.model.arch;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.random.RandomGenerator;

/** transformers' DeepseekV3MLP: down_proj(silu(gate_proj(x)) · up_proj(x)), no biases; {@code prefix} ends with a dot. */
final class SwiGluMlp {
    final Parameter gate, up, down;

    SwiGluMlp(String prefix, int hidden, int width, RandomGenerator rng, float std) {
        gate = DecoderLayer.mat(prefix + "gate_proj.weight", rng, std, width, hidden);
        up = DecoderLayer.mat(prefix + "up_proj.weight", rng, std, width, hidden);
        down = DecoderLayer.mat(prefix + "down_proj.weight", rng, std, hidden, width);
    }

    List<Parameter> parameters() {
        return List.of(gate, up, down);
    }

    /** x [..., C] → [..., C]. */
    Tensor forward(Tensor x) {
        return F.linear(F.swiglu(F.linear(x, gate), F.linear(x, up)), down);
    }
}
