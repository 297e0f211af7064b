package io.r1kit.model.lora;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.hf.DType;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A full checkpoint from a base model and PEFT LoRA adapters: W ← W + B·A·lora_alpha / r for every
 * adapted projection (PEFT's merge_and_unload), written in the Hugging Face layout with the base's
 * config.json, generation config and tokenizer files.
 */
public final class LoraMerge {
    private LoraMerge() {}

    /** What was merged. */
    public record Result(int adapters, int r, double loraAlpha, java.util.List<String> targetModules) {}

    /** Loads {@code base}, applies the adapters of {@code adapterDir}, saves the merged model to {@code out} (atomically). */
    public static Result merge(Path base, Path adapterDir, Path out, DType dtype) throws IOException {
        PeftAdapterFiles.Adapter a = PeftAdapterFiles.read(adapterDir);
        CausalLM m = CausalLM.load(base);
        LoraAdapters ad = m.attachLora(a.config(), 0);
        PeftAdapterFiles.load(adapterDir, ad);
        int n = ad.parameters().size() / 2;
        m.mergeAndUnloadLora();
        m.save(out, dtype);
        return new Result(n, a.config().r(), a.config().loraAlpha(), a.config().targetModules());
    }
}
