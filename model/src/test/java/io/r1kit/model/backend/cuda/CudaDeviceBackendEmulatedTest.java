package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.UnaryOp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link CudaDeviceBackend} — the DeviceBackend device tensors use on a GPU — running the REAL
 * .cu kernels through the g++ host emulation of EmulatedKernelsTest, against {@link EmulatedDevice}
 * (the CPU kernels), op by op with the same inputs. This checks the delegation layer (argument
 * order, element types, offsets, fills and copies ordered with the queued launches) and that the
 * emulated device the training-step tests run on computes what the kernels compute. Not covered:
 * the ops built on cuBLAS (GEMMs, bias add/gradient, the scaled sums), which the host emulation
 * cannot run. Tolerances: fp32 reductions in a different order (block trees vs fixed-order lanes),
 * 2e-5 absolute + 2e-4 relative; AdamW's kernels share the CPU formulation, 1e-6 + 1e-5.
 */
class CudaDeviceBackendEmulatedTest {
    static CudaDeviceBackend gpu;
    static final EmulatedDevice cpu = new EmulatedDevice();

    @BeforeAll
    static void setUp() throws Exception {
        EmulatedKernelsTest.build();   // skips the class when g++ is missing
        gpu = new CudaDeviceBackend("cuda-on-host-emulation", EmulatedKernelsTest.dev, null, EmulatedKernelsTest.ops,
                () -> CudaOps.GemmPrecision.FP32);
    }

    @AfterAll
    static void tearDown() throws IOException {
        EmulatedKernelsTest.cleanup();
    }

    private interface Op { void run(DeviceBackend d, List<DeviceArray> a); }

    /** float[] → F32, int[] → I32, byte[] → U8, Integer n → zeroed F32 [n], ElementType.F64 → zeroed F64 [1]. */
    private static List<DeviceArray> put(DeviceBackend d, Object... inputs) {
        List<DeviceArray> out = new ArrayList<>();
        for (Object in : inputs) {
            if (in instanceof float[] f) out.add(d.upload(f, 0, f.length, "test"));
            else if (in instanceof int[] i) out.add(d.upload(i, "test"));
            else if (in instanceof byte[] b) out.add(d.upload(b, "test"));
            else if (in instanceof Integer n) out.add(d.alloc(ElementType.F32, n));
            else if (in == ElementType.F64) out.add(d.alloc(ElementType.F64, 1));
            else throw new IllegalArgumentException("input " + in);
        }
        return out;
    }

    /** Runs op on both devices and compares every F32 / F64 array afterwards. */
    private static void same(String what, double atol, double rtol, Op op, Object... inputs) {
        List<DeviceArray> g = put(gpu, inputs), c = put(cpu, inputs);
        op.run(gpu, g);
        op.run(cpu, c);
        for (int i = 0; i < inputs.length; i++) {
            if (g.get(i).type() == ElementType.F64) {
                double e = cpu.readF64(c.get(i), "test"), a = gpu.readF64(g.get(i), "test");
                assertEquals(e, a, atol + rtol * Math.abs(e), what + " array " + i);
            } else if (g.get(i).type() == ElementType.F32) {
                int n = (int) g.get(i).length();
                float[] e = new float[n], a = new float[n];
                cpu.read(c.get(i), 0, e, 0, n, "test");
                gpu.read(g.get(i), 0, a, 0, n, "test");
                EmulatedKernelsTest.close(what + " array " + i, e, a, atol, rtol);
            }
        }
    }

    static float[] rnd(long seed, int n) {
        return EmulatedKernelsTest.randn(seed, n);
    }

    static final double A = 2e-5, R = 2e-4;

    @Test
    void memoryAndElementwise() {
        same("fill + write", 0, 0, (d, a) -> {
            d.fill(a.get(0), 2.5f, 10);
            d.write(a.get(0), 3, new float[] {7, 8, 9}, 0, 3, "test");
        }, 10);
        int n = 37;
        same("add/mul/axpy/scale", A, R, (d, a) -> {
            d.add(a.get(2), a.get(0), a.get(1), n);
            d.mul(a.get(3), a.get(0), a.get(1), n);
            d.axpy(-0.5f, a.get(0), a.get(1), n);
            d.scale(a.get(4), a.get(1), 3f, n);
        }, rnd(1, n), rnd(2, n), n, n, n);
        same("copy2d: a strided block, then accumulated back (slice / concat and their backwards)", 0, 0, (d, a) -> {
            d.copy2d(a.get(1), 2, 9, a.get(0), 3, 11, 4, 5, false);
            d.copy2d(a.get(0), 1, 11, a.get(1), 2, 9, 4, 5, true);
            d.copy2d(a.get(1), 0, 1, a.get(0), 0, 1, 0, 1, false);   // empty: no launch
        }, rnd(5, 44), 40);
        same("sumInto + clipByGlobalNorm", A, R, (d, a) -> {
            d.sumInto(a.get(0), 50, true, a.get(2), false);
            d.sumInto(a.get(1), 20, true, a.get(2), true);
            d.clipByGlobalNorm(a.get(0), 50, a.get(2), 1f);
            d.clipByGlobalNorm(a.get(1), 20, a.get(2), 1f);
        }, rnd(3, 50), rnd(4, 20), ElementType.F64);
    }

    /**
     * loss.cu (unary ops, strided broadcast binary ops and where, masked / dim reductions), forward
     * and backward. Same tolerance as the other ops: expf/logf/powf vs Java's double-precision
     * Math (a few ulp), and the broadcast gradients summed in a different order.
     */
    @Test
    void lossOps() {
        int n = 24;
        float[] pos = rnd(30, n);
        for (int i = 0; i < n; i++) pos[i] = 0.5f + Math.abs(pos[i]);
        for (UnaryOp op : UnaryOp.values())
            same("unary " + op, A, R, (d, a) -> {
                d.unary(op, a.get(1), a.get(0), n, op == UnaryOp.CLAMP ? 0.8f : 1.5f, 1.6f);
                d.unaryBackward(op, a.get(3), a.get(2), a.get(0), a.get(1), n, op == UnaryOp.CLAMP ? 0.8f : 1.5f, 1.6f);
            }, pos, n, rnd(31, n), rnd(32, n));
        int[] shape = {2, 3, 4}, sa = {12, 4, 1}, sCol = {1, 0, 0}, sRow = {0, 0, 1};
        for (BinaryOp op : BinaryOp.values())
            same("binary " + op + " [2,3,4] with [2,1,1]", A, R, (d, a) -> {
                d.binary(op, a.get(2), a.get(0), a.get(1), shape, sa, sCol);
                d.binaryBackward(op, a.get(4), a.get(5), a.get(3), a.get(0), a.get(1), shape, sa, sCol);
            }, rnd(33, 24), pos.clone(), 24, rnd(34, 24), 24, 2);
        float[] cond = {1, 0, 0, 2};
        same("where, [4] cond, [2,1,1] b", A, R, (d, a) -> {
            d.where(a.get(3), a.get(0), a.get(1), a.get(2), shape, sRow, sa, sCol);
            d.whereBackward(a.get(5), a.get(6), a.get(4), a.get(0), shape, sRow, sa, sCol);
        }, cond, rnd(35, 24), rnd(36, 2), 24, rnd(37, 24), 24, 2);
        float[] mask = new float[24];
        for (int i = 0; i < 24; i++) mask[i] = i % 5 == 0 ? 0f : i < 12 ? 1f : 0.5f;
        for (boolean mean : new boolean[] {false, true}) {
            same("maskedReduce dim 1, mean " + mean, A, R, (d, a) -> {
                d.maskedReduce(a.get(2), a.get(0), a.get(1), 2, 3, 4, mean);
                d.maskedReduceBackward(a.get(4), a.get(3), a.get(1), 2, 3, 4, mean);
                d.maskedReduce(a.get(5), a.get(0), null, 2, 3, 4, mean);
                d.maskedReduceBackward(a.get(4), a.get(3), null, 2, 3, 4, mean);
                d.maskedReduce(a.get(6), a.get(0), a.get(1), 1, 24, 1, mean);
            }, rnd(38, 24), mask, 8, rnd(39, 8), 24, 8, 1);
        }
    }

    @Test
    void transformerBlocks() {
        int N = 3, C = 40;
        same("rmsnorm fwd+bwd", A, R, (d, a) -> {
            d.rmsnormForward(a.get(2), a.get(3), a.get(0), a.get(1), N, C, 1e-5f);
            d.rmsnormBackward(a.get(5), a.get(6), a.get(4), a.get(0), a.get(1), a.get(3), N, C);
        }, rnd(5, N * C), rnd(6, C), N * C, N, rnd(7, N * C), N * C, C);
        int R0 = 3, H = 2, D = 8;
        RopeTables t = RopeTables.build(D, 8, 10000, RopeTables.Scaling.none());
        same("rope fwd+inverse", A, R, (d, a) -> {
            d.rope(a.get(1), a.get(0), a.get(2), a.get(3), a.get(4), R0, H, D, false);
            d.rope(a.get(5), a.get(1), a.get(2), a.get(3), a.get(4), R0, H, D, true);
        }, rnd(8, R0 * H * D), R0 * H * D, new int[] {0, 5, 7}, t.cos(), t.sin(), R0 * H * D);
        int n = 45;
        same("swiglu fwd+bwd", A, R, (d, a) -> {
            d.swigluForward(a.get(2), a.get(0), a.get(1), n);
            d.swigluBackward(a.get(4), a.get(5), a.get(3), a.get(0), a.get(1), n);
        }, rnd(9, n), rnd(10, n), n, rnd(11, n), n, n);
        int B = 1, T = 5, Hq = 2, Hkv = 1, Dh = 8;
        float scale = (float) (1 / Math.sqrt(Dh));
        same("attention fwd+bwd with a key mask", A, R, (d, a) -> {
            d.attentionForward(a.get(3), a.get(4), a.get(0), a.get(1), a.get(2), a.get(5), B, T, T, Hq, Hkv, Dh, 0, scale);
            d.attentionBackward(a.get(7), a.get(8), a.get(9), a.get(6), a.get(0), a.get(1), a.get(2), a.get(3), a.get(4), a.get(5),
                    B, T, T, Hq, Hkv, Dh, 0, scale);
        }, rnd(12, B * T * Hq * Dh), rnd(13, B * T * Hkv * Dh), rnd(14, B * T * Hkv * Dh), B * T * Hq * Dh, B * Hq * T,
                new byte[] {1, 1, 0, 1, 1}, rnd(15, B * T * Hq * Dh), B * T * Hq * Dh, B * T * Hkv * Dh, B * T * Hkv * Dh);
        int V = 9;
        same("embedding fwd+bwd (repeated ids)", A, R, (d, a) -> {
            d.embeddingForward(a.get(2), a.get(0), a.get(1), 4, 6);
            d.embeddingBackward(a.get(4), a.get(3), a.get(1), 4, 6);
        }, rnd(16, V * 6), new int[] {3, 0, 3, 8}, 4 * 6, rnd(17, 4 * 6), V * 6);
    }

    @Test
    void softmaxFamily() {
        int N = 3, V = 40;
        same("softmax / logSoftmax fwd+bwd", A, R, (d, a) -> {
            d.softmaxForward(a.get(1), a.get(0), N, V);
            d.softmaxBackward(a.get(3), a.get(2), a.get(1), N, V);
            d.logSoftmaxForward(a.get(4), a.get(0), N, V);
            d.logSoftmaxBackward(a.get(5), a.get(2), a.get(4), N, V);
        }, rnd(18, N * V), N * V, rnd(19, N * V), N * V, N * V, N * V);
        same("tokenLogProbs / entropy fwd+bwd", A, R, (d, a) -> {
            d.tokenLogProbsForward(a.get(2), a.get(3), a.get(0), a.get(1), N, V);
            d.tokenLogProbsBackward(a.get(5), a.get(4), a.get(0), a.get(3), a.get(1), N, V);
            d.entropyForward(a.get(6), a.get(7), a.get(0), N, V);
            d.entropyBackward(a.get(8), a.get(4), a.get(0), a.get(7), a.get(6), N, V);
        }, rnd(20, N * V), new int[] {4, -1, 39}, N, N, rnd(21, N), N * V, N, N, N * V);
    }

    @Test
    void optimizerSteps() {
        int n = 30;
        float[] p = rnd(22, n), g = rnd(23, n), v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Math.abs(g[i]) * 0.01f;
        same("adamw", 1e-6, 1e-5, (d, a) -> d.adamw(a.get(0), a.get(1), a.get(2), a.get(3), n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f,
                0.19f, 0.002f), p, g, rnd(24, n), v);
        same("castToBf16 + adamwBf16 + bf16ToF32", 1e-6, 1e-5, (d, a) -> {
            try (DeviceArray g16 = d.castToBf16(a.get(1), 0, n); DeviceArray p16 = d.alloc(ElementType.BF16, n)) {
                d.adamwBf16(a.get(0), g16, a.get(2), a.get(3), p16, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 0.1f, 0.001f, 0.5f);
                d.bf16ToF32(a.get(4), p16, n);
                d.bf16ToF32(a.get(5), g16, n);
            }
        }, p, g, new float[n], new float[n], n, n);
    }

    /** The decoding ops generation on the device uses: cache append / gather, an I32 fill, sampling and the I32 read. */
    @Test
    void decodingOps() {
        int B = 3, Tnew = 2, maxT = 5, row = 6;
        same("fillI32 + kvAppend + kvGather", 0, 0, (d, a) -> {
            try (DeviceArray start = d.alloc(ElementType.I32, B); DeviceArray idx = d.upload(new int[] {2, 0, 0, 1}, "test")) {
                d.fillI32(start, 1, B);                                   // aligned rows: all at slot 1
                d.kvAppend(a.get(0), a.get(1), start, B, Tnew, maxT, row);
                d.kvAppend(a.get(0), a.get(2), a.get(3), B, 1, maxT, row);   // ragged starts
                d.kvGather(a.get(4), a.get(0), idx, 4, (long) maxT * row);   // compact + fork
            }
        }, B * maxT * row, rnd(30, B * Tnew * row), rnd(31, B * row), new int[] {0, 3, 4}, 4 * maxT * row);
        int N = 4, V = 300;
        float[] x = rnd(32, N * V), u = {0.01f, 0.37f, 0.93f, 0.999f};
        for (int i = 0; i < x.length; i++) x[i] *= 2;
        // the real kernel against the CPU Sampler (EmulatedDevice): the same token for the same uniform
        float[][] settings = {{0f, 0, 1f, 0f}, {1f, 0, 1f, 0f}, {0.7f, 50, 1f, 0f}, {0.8f, 40, 0.8f, 0f}, {1f, 0, 0.9f, 0f},
                {1.2f, 0, 0.7f, 0.05f}, {1.2f, 0, 1f, 0.05f}};
        for (float[] sp : settings) {
            for (int mode = 0; mode < 3; mode++) {
                int[][] ids = new int[2][N];
                float[][] lp = new float[2][N];
                DeviceBackend[] both = {gpu, cpu};
                for (int k = 0; k < 2; k++) {
                    DeviceBackend d = both[k];
                    try (DeviceArray dx = d.upload(x, 0, x.length, "test"); DeviceArray du = d.upload(u, 0, N, "test");
                         DeviceArray out = d.alloc(ElementType.I32, N); DeviceArray dlp = d.alloc(ElementType.F32, N)) {
                        d.sample(out, dlp, dx, du, N, V, sp[0], (int) sp[1], sp[2], sp[3], mode);
                        d.readInts(out, ids[k], N, "test");
                        d.read(dlp, 0, lp[k], 0, N, "test");
                    }
                }
                String what = "sample T=" + sp[0] + " k=" + sp[1] + " p=" + sp[2] + " minP=" + sp[3] + " mode " + mode;
                org.junit.jupiter.api.Assertions.assertArrayEquals(ids[1], ids[0], what + " ids");
                EmulatedKernelsTest.close(what + " log-probs", lp[1], lp[0], 1e-4, 1e-4);
            }
        }
    }
}
