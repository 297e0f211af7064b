/**
 * Inference on a {@link io.r1kit.model.arch.CausalLM}: batched KV-cached sampling with GRPO group
 * sampling ({@link io.r1kit.model.generate.Generator}, {@link io.r1kit.model.generate.SamplingParams}),
 * teacher-forced scoring ({@link io.r1kit.model.generate.Scorer}), the {@code r1kit logprobs} job
 * ({@link io.r1kit.model.generate.LogprobsJsonl}) and the decode benchmark
 * ({@link io.r1kit.model.generate.DecodeBenchmark}).
 */
package io.r1kit.model.generate;
