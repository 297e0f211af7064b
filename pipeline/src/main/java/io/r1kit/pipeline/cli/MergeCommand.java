package io.r1kit.pipeline.cli;

import io.r1kit.model.hf.DType;
import io.r1kit.model.lora.LoraMerge;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1kit merge --model BASE --adapter DIR --out DIR2}: a full Hugging Face checkpoint of a
 * base model with PEFT LoRA adapters merged into its weights (see {@link LoraMerge}).
 */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Merges PEFT LoRA adapters (adapter_config.json + adapter_model.safetensors) into their base model",
                "and writes a full Hugging Face checkpoint: W + B*A*lora_alpha/r for every adapted projection."})
public final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "BASE", description = "The base model directory the adapters were trained on.")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The adapter directory (PEFT layout).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR2", description = "Output directory (replaced atomically).")
    Path out;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "DTYPE", description = "f32 (default, exact) or bf16.")
    String dtype;

    @Override
    public Integer call() {
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> null;
        };
        if (dt == null) {
            System.err.println("r1kit merge: --dtype must be f32 or bf16, got '" + dtype + "'");
            return 2;
        }
        try {
            long t0 = System.nanoTime();
            LoraMerge.Result r = LoraMerge.merge(model, adapter, out, dt);
            System.err.printf("r1kit merge: %d adapter(s) (r %d, lora_alpha %s, %s) merged into %s in %.1f s -> %s%n", r.adapters(), r.r(),
                    r.loraAlpha(), r.targetModules(), model, (System.nanoTime() - t0) / 1e9, out);
            return 0;
        } catch (IOException | RuntimeException e) {
            System.err.println("r1kit merge: " + e.getMessage());
            return 1;
        }
    }
}
