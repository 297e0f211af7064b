package io.r1kit.model.fp8;

/**
 * How FP8 training quantises the operands of a linear layer's three GEMMs (see {@link Fp8Gemm}).
 *
 * @param format    the operands' format (DeepSeek-V3: E4M3 everywhere)
 * @param perTensor one scale per operand instead of V3's fine-grained scales: the coarse baseline
 *                  (1×128 activation tiles and 128×128 weight blocks otherwise)
 */
public record Fp8Recipe(Fp8Format format, boolean perTensor) {
    /** DeepSeek-V3: E4M3, 1×128 tiles for activations and gradients along the GEMM's inner dimension, 128×128 weight blocks. */
    public static final Fp8Recipe FINE_GRAINED = new Fp8Recipe(Fp8Format.E4M3, false);
    /** E4M3 with one scale per tensor. */
    public static final Fp8Recipe PER_TENSOR = new Fp8Recipe(Fp8Format.E4M3, true);

    /** K-chunk of the GEMMs: FP32 accumulation is promoted every this many products (V3's N_C = 128). */
    public static final int CHUNK = Fp8Blocks.BLOCK;

    public Fp8Recipe {
        if (format == null) throw new IllegalArgumentException("fp8 recipe needs a format");
    }

    /** {@code [rows, cols]} activations or gradients whose GEMM sums over {@code cols}: 1×128 tiles along each row. */
    public Fp8Blocks alongRows(float[] x, int rows, int cols) {
        return perTensor ? Fp8Blocks.perTensor(x, rows, cols, format) : Fp8Blocks.quantize(x, rows, cols, 1, CHUNK, format);
    }

    /** {@code [rows, cols]} activations or gradients whose GEMM sums over {@code rows}: 128×1 tiles down each column. */
    public Fp8Blocks alongColumns(float[] x, int rows, int cols) {
        return perTensor ? Fp8Blocks.perTensor(x, rows, cols, format) : Fp8Blocks.quantize(x, rows, cols, CHUNK, 1, format);
    }

    /** A weight matrix: 128×128 blocks. */
    public Fp8Blocks weights(float[] w, int rows, int cols) {
        return perTensor ? Fp8Blocks.perTensor(w, rows, cols, format) : Fp8Blocks.weights(w, rows, cols, format);
    }
}
