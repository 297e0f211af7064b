package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.FloatFormats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.r1kit.model.backend.cuda.EmulatedKernelsTest.close;
import static io.r1kit.model.backend.cuda.EmulatedKernelsTest.randn;

/**
 * r1kit's own GEMM kernels (gemm.cu, used when cuBLAS cannot be loaded) on the g++ host emulation,
 * launched by {@link CudaOps} on its own-GEMM path, against {@link ReferenceBackend}'s GEMM
 * (double accumulation): the fp32 SIMT kernel, the bf16 SIMT kernel, and the tensor-core kernel
 * whose mma.sync is replaced in the emulation by the same product computed from the same register
 * fragments (so the fragment layout the hardware instruction consumes is what is checked here).
 * Shapes straddle the 64x64 tile and the 16-deep K step (1, 15, 17, 65, 129), with transposes,
 * offsets, beta 0 (overwrites a NaN) and 0.5, and batches with a broadcast operand.
 *
 * <p>Tolerance: bf16 operands are rounded on the host first, so both sides multiply the same
 * values; the products are exact in fp32 and only the fp32 accumulation differs from the double
 * reference: |err| &lt;= K 2^-24 sum|a b|, about 1e-5 sqrt(K) for unit normals (atol 1e-5 sqrt(K),
 * rtol 1e-4, as the CPU row of BackendConformanceTest).
 */
class GemmKernelsEmulatedTest {
    static CudaOps own;

    @BeforeAll
    static void setUp() throws Exception {
        EmulatedKernelsTest.build();   // skips the class when g++ is missing
        own = new CudaOps(EmulatedKernelsTest.dev, CudaOps.GemmPath.OWN);
    }

    @AfterAll
    static void tearDown() throws IOException {
        EmulatedKernelsTest.cleanup();
    }

    enum Variant { F32_SIMT, BF16_SIMT, BF16_MMA }

    static float[] roundBf16(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) r[i] = FloatFormats.roundToBf16(a[i]);
        return r;
    }

    static DeviceBuffer uploadBf16(HostEmulatedDevice dev, float[] a) {
        ByteBuffer bb = ByteBuffer.allocate(2 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : a) bb.putShort(FloatFormats.floatToBf16(f));
        return dev.upload(bb.array());
    }

    /** One (batched) product on a variant, compared with the reference. */
    static void check(Variant v, boolean tA, boolean tB, int batch, int M, int N, int K, float beta, boolean broadcastB, long seed) {
        HostEmulatedDevice dev = EmulatedKernelsTest.dev;
        int aOff = 3, bOff = 5, cOff = 2;
        long sA = (long) M * K, sB = broadcastB ? 0 : (long) K * N, sC = (long) M * N;
        float[] A = randn(seed, aOff + (int) (batch * sA)), B = randn(seed + 1, bOff + (int) (broadcastB ? K * N : batch * sB));
        float[] C0 = randn(seed + 2, cOff + (int) (batch * sC));
        if (beta == 0f) C0[cOff] = Float.NaN;
        if (v != Variant.F32_SIMT) { A = roundBf16(A); B = roundBf16(B); }
        float[] expected = C0.clone();
        ReferenceBackend.INSTANCE.gemmBatched(tA, tB, batch, M, N, K, 1.25f, A, aOff, (int) sA, B, bOff, (int) sB, beta, expected, cOff, (int) sC);
        DeviceBuffer a = v == Variant.F32_SIMT ? dev.upload(A) : uploadBf16(dev, A);
        DeviceBuffer b = v == Variant.F32_SIMT ? dev.upload(B) : uploadBf16(dev, B);
        DeviceBuffer c = dev.upload(C0);
        switch (v) {
            case F32_SIMT -> own.gemmBatched(tA, tB, batch, M, N, K, 1.25f, a, aOff, sA, b, bOff, sB, beta, c, cOff, sC,
                    CudaOps.GemmPrecision.FP32);
            case BF16_SIMT -> own.gemmBf16Simt(tA, tB, batch, M, N, K, 1.25f, a, aOff, sA, b, bOff, sB, beta, c, cOff, sC);
            case BF16_MMA -> own.gemmBf16(tA, tB, batch, M, N, K, 1.25f, a, aOff, sA, b, bOff, sB, beta, c, cOff, sC);
        }
        float[] actual = dev.floats(c, C0.length);
        close(v + " gemm batch=" + batch + " M=" + M + " N=" + N + " K=" + K + " tA=" + tA + " tB=" + tB + " beta=" + beta
                + " broadcastB=" + broadcastB, expected, actual, 1e-5 * Math.sqrt(Math.max(1, K)), 1e-4);
    }

    @Test
    void simtFp32MatchesTheReference() {
        long seed = 1;
        for (int[] mnk : new int[][] {{1, 1, 1}, {65, 17, 33}, {15, 129, 17}, {5, 9, 0}}) {
            for (boolean tA : new boolean[] {false, true})
                for (boolean tB : new boolean[] {false, true})
                    for (float beta : new float[] {0f, 0.5f}) check(Variant.F32_SIMT, tA, tB, 1, mnk[0], mnk[1], mnk[2], beta, false, seed += 3);
        }
        check(Variant.F32_SIMT, false, true, 3, 7, 33, 17, 1f, true, 99);
        check(Variant.F32_SIMT, true, false, 2, 17, 5, 9, 0f, false, 101);
    }

    @Test
    void simtBf16MatchesTheReferenceOnRoundedOperands() {
        long seed = 200;
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true}) check(Variant.BF16_SIMT, tA, tB, 1, 65, 17, 33, tA ? 0f : 0.5f, false, seed += 3);
        check(Variant.BF16_SIMT, false, false, 3, 7, 9, 17, 1f, true, 250);
    }

    @Test
    void tensorCoreFragmentsMatchTheReference() {
        long seed = 300;
        // 70 x 72 crosses both the 64-wide block tile and a warp's 32-wide sub-tile; K = 33 leaves a partial 16-step
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true}) check(Variant.BF16_MMA, tA, tB, 1, 70, 72, 33, tA == tB ? 0f : 0.5f, false, seed += 3);
        check(Variant.BF16_MMA, false, false, 1, 1, 1, 1, 0f, false, 350);
        check(Variant.BF16_MMA, true, false, 2, 9, 17, 16, 1f, true, 360);
    }
}
