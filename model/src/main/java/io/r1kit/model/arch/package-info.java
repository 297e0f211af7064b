/**
 * Decoder-only transformers (Llama 2/3, Qwen2/2.5, Qwen3) on the compute core's ops, with Hugging
 * Face parameter names: {@link io.r1kit.model.arch.ModelConfig} (shape and family),
 * {@link io.r1kit.model.arch.CausalLM} (build, load, save, forward, fused teacher-forced scoring),
 * {@link io.r1kit.model.arch.Batch} (right-padded prompt+completion batches) and
 * {@link io.r1kit.model.arch.TokenScores}.
 */
package io.r1kit.model.arch;
