package io.r1kit.pipeline.cli;

import io.r1kit.model.fp8.CheckpointQuantizer;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1kit quantize --model DIR --out DIR2 --format fp8-block}: an FP8 copy of a checkpoint in
 * the layout DeepSeek-V3 releases (see {@link CheckpointQuantizer}).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Writes a quantised copy of a Hugging Face model directory.",
                "fp8-block: decoder-layer linear weights as F8_E4M3 with one <name>_scale_inv per 128x128 block and",
                "quantization_config {quant_method: fp8, weight_block_size: [128, 128]}, as DeepSeek-V3 ships;",
                "embeddings, norms, biases and the lm head keep their dtype. FP8 weights already present are copied as they are."})
public final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Source model directory (F32 or BF16 safetensors).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory (replaced atomically).")
    Path out;

    @Option(names = "--format", defaultValue = "fp8-block", paramLabel = "FORMAT", description = "Only fp8-block (default).")
    String format;

    @Override
    public Integer call() {
        if (!format.equals("fp8-block")) {
            System.err.println("r1kit quantize: --format must be fp8-block, got '" + format + "'");
            return 2;
        }
        try {
            long t0 = System.nanoTime();
            CheckpointQuantizer.Result r = CheckpointQuantizer.quantize(model, out, Fp8Format.E4M3, Fp8Blocks.BLOCK);
            System.err.printf("r1kit quantize: %d weight(s) to FP8 E4M3 in 128x128 blocks, %d already FP8 copied, %d kept;"
                            + " %.1f MB -> %.1f MB of tensors in %.1f s -> %s%n", r.quantized(), r.copiedFp8(), r.kept(),
                    r.bytesBefore() / 1e6, r.bytesAfter() / 1e6, (System.nanoTime() - t0) / 1e9, out);
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("r1kit quantize: " + e.getMessage());
            return 1;
        }
    }
}
