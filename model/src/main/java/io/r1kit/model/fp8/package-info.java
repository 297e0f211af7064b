/**
 * FP8 as DeepSeek-V3 uses it: the E4M3 ("fn": no infinities, max 448) and E5M2 formats with exact
 * round-to-nearest-even, saturating conversion ({@link io.r1kit.model.fp8.Fp8Format}), vectorised
 * array conversion with its scalar twin ({@link io.r1kit.model.fp8.Fp8Arrays}), and block
 * quantisation with one scale per 1×128 activation tile, 128×128 weight block or whole tensor
 * ({@link io.r1kit.model.fp8.Fp8Blocks}).
 */
package io.r1kit.model.fp8;
