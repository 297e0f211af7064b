package io.r1kit.model.fp8;

import java.util.Arrays;

/**
 * A row-major {@code rows × cols} matrix stored as FP8 codes with one float scale per
 * {@code blockRows × blockCols} block (edge blocks may be smaller): element (r, c) is
 * {@code decode(codes[r*cols+c]) * scaleInv[(r/blockRows) * colBlocks + c/blockCols]}.
 * {@code scaleInv} is what DeepSeek-V3 checkpoints store as {@code <name>_scale_inv}: the
 * multiplier that dequantises, shaped {@code [ceil(rows/blockRows), ceil(cols/blockCols)]}.
 *
 * <p>Quantisation ({@link #quantize}) takes a block's scale from its absolute maximum,
 * {@code scaleInv = amax / fmt.max()}, so the largest element lands on ±max; an all-zero block
 * gets scale 1 (codes 0). Shapes used by V3: 128×128 for weights ({@link #weights}), 1×128 along
 * the inner dimension for activations and gradients ({@link #activations}); one block for the
 * whole tensor is the coarse per-tensor baseline ({@link #perTensor}).
 */
public record Fp8Blocks(Fp8Format format, int rows, int cols, int blockRows, int blockCols, byte[] codes, float[] scaleInv) {

    /** DeepSeek-V3's block edge: 128 for weights (128×128) and activations (1×128). */
    public static final int BLOCK = 128;

    public Fp8Blocks {
        if (rows < 0 || cols < 0 || blockRows <= 0 || blockCols <= 0) {
            throw new IllegalArgumentException("bad fp8 block layout: " + rows + "x" + cols + " in " + blockRows + "x" + blockCols + " blocks");
        }
        if (codes.length != (long) rows * cols) {
            throw new IllegalArgumentException(rows + "x" + cols + " fp8 matrix needs " + (long) rows * cols + " codes, got " + codes.length);
        }
        long nScales = (long) ceilDiv(rows, blockRows) * ceilDiv(cols, blockCols);
        if (scaleInv.length != nScales) {
            throw new IllegalArgumentException(rows + "x" + cols + " fp8 matrix in " + blockRows + "x" + blockCols
                    + " blocks needs " + nScales + " scales, got " + scaleInv.length);
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Number of block rows of the scale grid. */
    public int rowBlocks() {
        return ceilDiv(rows, blockRows);
    }

    /** Number of block columns of the scale grid. */
    public int colBlocks() {
        return ceilDiv(cols, blockCols);
    }

    /** Bytes this representation occupies (codes plus float32 scales). */
    public long byteSize() {
        return codes.length + 4L * scaleInv.length;
    }

    /** A weight matrix in 128×128 blocks. */
    public static Fp8Blocks weights(float[] x, int rows, int cols, Fp8Format fmt) {
        return quantize(x, rows, cols, BLOCK, BLOCK, fmt);
    }

    /** Activations {@code [rows, cols]} in 1×128 tiles along {@code cols} (the GEMM's inner dimension). */
    public static Fp8Blocks activations(float[] x, int rows, int cols, Fp8Format fmt) {
        return quantize(x, rows, cols, 1, BLOCK, fmt);
    }

    /** The whole matrix under one scale. */
    public static Fp8Blocks perTensor(float[] x, int rows, int cols, Fp8Format fmt) {
        return quantize(x, rows, cols, Math.max(rows, 1), Math.max(cols, 1), fmt);
    }

    /** Quantises with the Vector API kernels ({@link Fp8Arrays}). */
    public static Fp8Blocks quantize(float[] x, int rows, int cols, int blockRows, int blockCols, Fp8Format fmt) {
        return quantize(x, rows, cols, blockRows, blockCols, fmt, true);
    }

    /** Quantises one element at a time (the reference for {@link #quantize}). */
    public static Fp8Blocks quantizeScalar(float[] x, int rows, int cols, int blockRows, int blockCols, Fp8Format fmt) {
        return quantize(x, rows, cols, blockRows, blockCols, fmt, false);
    }

    private static Fp8Blocks quantize(float[] x, int rows, int cols, int br, int bc, Fp8Format fmt, boolean vector) {
        if (x.length != (long) rows * cols) {
            throw new IllegalArgumentException(rows + "x" + cols + " matrix needs " + (long) rows * cols + " values, got " + x.length);
        }
        if (br <= 0 || bc <= 0) throw new IllegalArgumentException("block sizes must be positive, got " + br + "x" + bc);
        int rb = ceilDiv(rows, br), cb = ceilDiv(cols, bc);
        byte[] codes = new byte[x.length];
        float[] scales = new float[rb * cb];
        if (vector && bc == 1 && br > 1) {
            quantizeColumnTiles(x, rows, cols, br, fmt, codes, scales);
            return new Fp8Blocks(fmt, rows, cols, br, bc, codes, scales);
        }
        for (int i = 0; i < rb; i++) {
            int r0 = i * br, r1 = Math.min(rows, r0 + br);
            for (int j = 0; j < cb; j++) {
                int c0 = j * bc, w = Math.min(cols, c0 + bc) - c0;
                float amax = 0f;
                for (int r = r0; r < r1; r++) {
                    float m = vector ? Fp8Arrays.absMax(x, r * cols + c0, w) : scalarAbsMax(x, r * cols + c0, w);
                    amax = Math.max(amax, m);
                }
                float s = scaleFor(amax, fmt);
                scales[i * cb + j] = s;
                for (int r = r0; r < r1; r++) {
                    if (vector) Fp8Arrays.encode(fmt, x, r * cols + c0, codes, r * cols + c0, w, s);
                    else Fp8Arrays.encodeScalar(fmt, x, r * cols + c0, codes, r * cols + c0, w, s);
                }
            }
        }
        return new Fp8Blocks(fmt, rows, cols, br, bc, codes, scales);
    }

    /**
     * Tiles of {@code br} rows × 1 column (the weight-gradient GEMM's operands, tiled along the
     * tokens): the same values as the block-by-block loop, computed a row of tiles at a time so the
     * inner loops run along contiguous rows.
     */
    private static void quantizeColumnTiles(float[] x, int rows, int cols, int br, Fp8Format fmt, byte[] codes, float[] scales) {
        float[] amax = new float[cols];
        for (int i = 0, r0 = 0; r0 < rows; i++, r0 += br) {
            int r1 = Math.min(rows, r0 + br);
            Arrays.fill(amax, 0f);
            for (int r = r0; r < r1; r++) {
                for (int j = 0, o = r * cols; j < cols; j++) amax[j] = Math.max(amax[j], Math.abs(x[o + j]));
            }
            for (int j = 0; j < cols; j++) scales[i * cols + j] = scaleFor(amax[j], fmt);
            for (int r = r0; r < r1; r++) {
                for (int j = 0, o = r * cols; j < cols; j++) codes[o + j] = (byte) fmt.encode(x[o + j] / scales[i * cols + j]);
            }
        }
    }

    /** The dequantising scale for a block whose absolute maximum is {@code amax}: amax / max, or 1 for a zero (or non-finite) block. */
    public static float scaleFor(float amax, Fp8Format fmt) {
        if (!(amax > 0f) || Float.isInfinite(amax)) return 1f;
        float s = amax / fmt.max();
        return s > 0f ? s : Float.MIN_VALUE; // amax below max·MIN_VALUE: the smallest scale still represents it
    }

    private static float scalarAbsMax(float[] x, int off, int n) {
        float m = 0f;
        for (int i = 0; i < n; i++) m = Math.max(m, Math.abs(x[off + i]));
        return m;
    }

    /** The float32 matrix these codes and scales stand for. */
    public float[] dequantize() {
        float[] out = new float[codes.length];
        dequantizeInto(out, true);
        return out;
    }

    /** {@link #dequantize} one element at a time. */
    public float[] dequantizeScalar() {
        float[] out = new float[codes.length];
        dequantizeInto(out, false);
        return out;
    }

    private void dequantizeInto(float[] out, boolean vector) {
        int cb = colBlocks();
        for (int r = 0; r < rows; r++) {
            int i = r / blockRows;
            for (int j = 0; j < cb; j++) {
                int c0 = j * blockCols, w = Math.min(cols, c0 + blockCols) - c0;
                float s = scaleInv[i * cb + j];
                if (vector) Fp8Arrays.decode(format, codes, r * cols + c0, out, r * cols + c0, w, s);
                else Fp8Arrays.decodeScalar(format, codes, r * cols + c0, out, r * cols + c0, w, s);
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fp8Blocks b && format == b.format && rows == b.rows && cols == b.cols && blockRows == b.blockRows
                && blockCols == b.blockCols && Arrays.equals(codes, b.codes) && Arrays.equals(scaleInv, b.scaleInv);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codes) * 31 + Arrays.hashCode(scaleInv);
    }

    @Override
    public String toString() {
        return "Fp8Blocks[" + format + " " + rows + "x" + cols + " in " + blockRows + "x" + blockCols + " blocks]";
    }
}
