package io.r1kit.pipeline.config;

import io.r1kit.grpo.config.Doc;
import io.r1kit.model.lora.LoraConfig;

import java.util.List;

/**
 * A stage's {@code lora:} mapping (sft, pretrain, grpo, ppo): PEFT's {@code LoraConfig} names and
 * defaults. The stage then trains LoRA adapters over its frozen starting model and saves them in
 * PEFT's layout; see {@link LoraConfig}.
 */
public record LoraSpec(
        @Doc(value = "rank of the adapters (A is r × in, B is out × r).", source = "PEFT")
        Integer r,
        @Doc(value = "the adapter term is scaled by lora_alpha / r.", source = "PEFT")
        Double loraAlpha,
        @Doc(value = "dropout probability on the adapter branch's input while training (host runs only).", source = "PEFT")
        Double loraDropout,
        @Doc(value = "projections of each decoder block that get adapters, from q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                + "down_proj, or `all-linear` for all seven (Llama / Qwen families; DeepSeek-V3 is refused).",
                unset = "[q_proj, v_proj] (PEFT's default for Llama and Qwen)", source = "PEFT")
        List<String> targetModules) {

    public LoraSpec {
        r = r == null ? 8 : r;
        loraAlpha = loraAlpha == null ? 8.0 : loraAlpha;
        loraDropout = loraDropout == null ? 0.0 : loraDropout;
        targetModules = targetModules == null ? LoraConfig.PEFT_DEFAULT_TARGETS : List.copyOf(targetModules);
        new LoraConfig(r, loraAlpha, loraDropout, targetModules);   // validates (fields are assigned after this body)
    }

    /** The model's LoRA settings. */
    public LoraConfig toConfig() {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules);
    }
}
