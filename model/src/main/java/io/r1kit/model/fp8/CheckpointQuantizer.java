package io.r1kit.model.fp8;

import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.HfCheckpointWriter;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.hf.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an FP8 copy of a Hugging Face checkpoint in DeepSeek-V3's layout ({@code r1kit quantize
 * --format fp8-block}): the decoder layers' linear weights become E4M3 codes with one scale per
 * 128×128 block; embeddings, norms, biases, the lm head and MoE routers keep their precision
 * (V3 keeps them in higher precision too). Weights that are already FP8 with scales are copied
 * code for code, so quantising an FP8 checkpoint again changes nothing.
 */
public final class CheckpointQuantizer {
    private CheckpointQuantizer() {}

    /** What one run did. */
    public record Result(int quantized, int copiedFp8, int kept, long bytesBefore, long bytesAfter) {}

    /**
     * True for the weights V3 stores in FP8: 2-D {@code *.weight} tensors inside the decoder layers
     * ({@code model.layers.N.}), except MoE routers ({@code .mlp.gate.weight}), norms, and the parts
     * of a multi-token-prediction module outside its decoder block: {@code eh_proj} (a plain
     * unquantised linear in DeepSeek's release and in vLLM's DeepSeekMTP) and the module's copies of
     * the embedding and lm head ({@code embed_tokens}, {@code shared_head.head}), which must stay
     * equal to {@code model.embed_tokens.weight} and {@code lm_head.weight}.
     */
    public static boolean quantizable(String name, int[] shape) {
        return shape.length == 2 && name.startsWith("model.layers.") && name.endsWith(".weight")
                && !name.endsWith(".mlp.gate.weight") && !name.contains("norm") && !name.endsWith(".eh_proj.weight")
                && !name.endsWith(".embed_tokens.weight") && !name.endsWith(".shared_head.head.weight");
    }

    /** Quantises {@code in} into {@code out} (written atomically) with weight blocks of {@code block}×{@code block}. */
    public static Result quantize(Path in, Path out, Fp8Format format, int block) throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(in)) {
            List<NamedTensor> floats = new ArrayList<>();
            Map<String, Fp8Blocks> fp8 = new LinkedHashMap<>();
            DType keptDtype = null;
            int quantized = 0, copied = 0;
            long before = 0, after = 0;
            for (String name : ck.tensorNames()) {
                TensorInfo info = ck.info(name);
                before += info.byteSize();
                if (ck.isFp8Scaled(name)) {
                    Fp8Blocks b = ck.loadFp8(name);
                    before += 4L * b.scaleInv().length;
                    fp8.put(name, b);
                    copied++;
                    after += b.byteSize();
                    continue;
                }
                if (info.dtype() != DType.F32 && info.dtype() != DType.BF16) {
                    throw new CheckpointException(info.file(), name, "dtype " + info.dtype() + " cannot be quantised or kept (expected F32 or BF16)");
                }
                float[] x = ck.load(name);
                int[] shape = info.shape();
                if (quantizable(name, shape)) {
                    Fp8Blocks b = Fp8Blocks.quantize(x, shape[0], shape[1], block, block, format);
                    fp8.put(name, b);
                    quantized++;
                    after += b.byteSize();
                } else if (HfCheckpointWriter.keptInF32(name)) {
                    // stored in F32 by the writer whatever the other tensors' dtype
                    floats.add(new NamedTensor(name, shape, x));
                    after += 4L * x.length;
                } else {
                    if (keptDtype != null && keptDtype != info.dtype()) {
                        throw new CheckpointException(info.file(), name, "is " + info.dtype() + " but other kept tensors are "
                                + keptDtype + "; the unquantised tensors must share one dtype");
                    }
                    keptDtype = info.dtype();
                    floats.add(new NamedTensor(name, shape, x));
                    after += info.byteSize();
                }
            }
            if (fp8.isEmpty()) throw new CheckpointException(in, null, "no tensor to quantise (expected 2-D model.layers.*.weight tensors)");
            HfCheckpointWriter w = new HfCheckpointWriter().copyFrom(ck).dtype(keptDtype == null ? DType.BF16 : keptDtype);
            w.save(out, floats, fp8);
            return new Result(quantized, copied, floats.size(), before, after);
        }
    }
}
