package io.r1kit.model.generate;

import io.r1kit.model.backend.Parallel;
import io.r1kit.model.fp8.Fp8Arrays;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import io.r1kit.model.hf.FloatFormats;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A weight matrix W [N, K] stored in bf16 or FP8 (E4M3, 128×128 block scales) for decoding, with
 * the product {@code out[M, N] = in[M, K] · Wᵀ} that reads it: each weight row is widened to fp32
 * once per call (bf16 exactly; FP8 as {@code decode · scale}) into a small buffer and dotted with
 * all M input rows, so every weight byte is read once per decode step whatever the batch.
 * {@link #gemm} is the Vector API kernel (rows of W in parallel); {@link #gemmReference} the plain
 * loop it is tested against.
 */
public final class LowPrecisionWeights {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(FS.length() * 16));

    private final DecodePrecision precision;
    private final int N, K;
    private final short[] bf16;    // BF16: row-major bits
    private final Fp8Blocks fp8;   // FP8: codes and 128×128 scales

    private LowPrecisionWeights(DecodePrecision precision, int N, int K, short[] bf16, Fp8Blocks fp8) {
        this.precision = precision;
        this.N = N;
        this.K = K;
        this.bf16 = bf16;
        this.fp8 = fp8;
    }

    /** A bf16 or FP8 copy of the fp32 row-major {@code w [N, K]}. */
    public static LowPrecisionWeights of(float[] w, int N, int K, DecodePrecision precision) {
        if (w.length != (long) N * K) throw new IllegalArgumentException("weights: " + N + "x" + K + " needs " + (long) N * K + " values, got " + w.length);
        return switch (precision) {
            case BF16 -> {
                short[] b = new short[w.length];
                for (int i = 0; i < w.length; i++) b[i] = FloatFormats.floatToBf16(w[i]);
                yield new LowPrecisionWeights(precision, N, K, b, null);
            }
            case FP8 -> new LowPrecisionWeights(precision, N, K, null, Fp8Blocks.weights(w, N, K, Fp8Format.E4M3));
            case FP32 -> throw new IllegalArgumentException("fp32 weights are read in place; no copy is made");
        };
    }

    public DecodePrecision precision() {
        return precision;
    }

    /** Bytes of the stored copy (FP8: codes plus float scales). */
    public long bytes() {
        return precision == DecodePrecision.BF16 ? 2L * bf16.length : fp8.byteSize();
    }

    /** Row n of W widened to fp32 into {@code row[0, K)}, vectorised. */
    private void widenRow(int n, float[] row) {
        if (precision == DecodePrecision.BF16) {
            int off = n * K, k = 0;
            for (int upper = FS.loopBound(K); k < upper; k += FS.length()) {
                IntVector bits = (IntVector) ShortVector.fromArray(SS, bf16, off + k).convertShape(VectorOperators.S2I, IS, 0);
                bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(row, k);
            }
            for (; k < K; k++) row[k] = FloatFormats.bf16ToFloat(bf16[off + k]);
        } else {
            int cb = fp8.colBlocks(), rb = n / fp8.blockRows();
            for (int j = 0; j < cb; j++) {
                int c0 = j * fp8.blockCols(), w = Math.min(K, c0 + fp8.blockCols()) - c0;
                Fp8Arrays.decode(fp8.format(), fp8.codes(), n * K + c0, row, c0, w, fp8.scaleInv()[rb * cb + j]);
            }
        }
    }

    /** Row n of W widened to fp32 one element at a time. */
    private void widenRowScalar(int n, float[] row) {
        for (int k = 0; k < K; k++) {
            row[k] = precision == DecodePrecision.BF16 ? FloatFormats.bf16ToFloat(bf16[n * K + k])
                    : fp8.format().decode(fp8.codes()[n * K + k])
                            * fp8.scaleInv()[(n / fp8.blockRows()) * fp8.colBlocks() + k / fp8.blockCols()];
        }
    }

    /** {@code out[m·N + n] = Σ_k in[m·K + k] · W[n, k]} for m < M, vectorised and parallel over n. */
    public void gemm(float[] in, int M, float[] out) {
        check(in, M, out);
        Parallel.forRange(N, Math.max(1, 4096 / Math.max(K, 1)), (n0, n1) -> {
            float[] row = new float[K];
            for (int n = n0; n < n1; n++) {
                widenRow(n, row);
                for (int m = 0; m < M; m++) out[m * N + n] = dot(row, in, m * K);
            }
        });
    }

    private float dot(float[] row, float[] in, int off) {
        FloatVector acc = FloatVector.zero(FS);
        int k = 0;
        for (int upper = FS.loopBound(K); k < upper; k += FS.length()) {
            acc = FloatVector.fromArray(FS, row, k).fma(FloatVector.fromArray(FS, in, off + k), acc);
        }
        float s = 0f;
        for (int l = 0; l < FS.length(); l++) s += acc.lane(l); // lane order: same bits interpreted or compiled
        for (; k < K; k++) s += row[k] * in[off + k];
        return s;
    }

    /** {@link #gemm} as a plain loop (reference). */
    public void gemmReference(float[] in, int M, float[] out) {
        check(in, M, out);
        float[] row = new float[K];
        for (int n = 0; n < N; n++) {
            widenRowScalar(n, row);
            for (int m = 0; m < M; m++) {
                float s = 0f;
                for (int k = 0; k < K; k++) s += row[k] * in[m * K + k];
                out[m * N + n] = s;
            }
        }
    }

    private void check(float[] in, int M, float[] out) {
        if (in.length < (long) M * K || out.length < (long) M * N) {
            throw new IllegalArgumentException("weights " + N + "x" + K + ": in has " + in.length + " (needs " + (long) M * K
                    + "), out has " + out.length + " (needs " + (long) M * N + ")");
        }
    }
}
