/**
 * Hugging Face checkpoint IO in plain {@code float[]} + shape + name form: safetensors reading
 * (validated as untrusted, memory-mapped, loaded lazily per tensor and widened to float32) and
 * writing (F32 or BF16, sharded with an index, atomic directory replacement), and the
 * {@code config.json} / {@code generation_config.json} of the Llama, Qwen2 and Qwen3 families.
 *
 * <p>Entry points: {@link io.r1kit.model.hf.HfCheckpoint#open}, {@link io.r1kit.model.hf.HfCheckpointWriter},
 * {@link io.r1kit.model.hf.SafetensorsReader}, {@link io.r1kit.model.hf.HfModelConfig}.
 */
package io.r1kit.model.hf;
