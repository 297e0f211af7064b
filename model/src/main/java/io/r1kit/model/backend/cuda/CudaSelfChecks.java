package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.Conformance;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.FloatFormats;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks only a GPU can make, run by {@code r1kit selftest --device cuda}: r1kit's own GEMM kernels
 * (gemm.cu: the tensor-core bf16 kernel, the plain SIMT bf16 kernel it is checked against, and the
 * SIMT fp32 kernel) on the device, whichever GEMM path the backend chose, against
 * {@link ReferenceBackend} on the same bf16-rounded operands. Products of bf16 values are exact in
 * fp32, so only the fp32 accumulation order differs from the double reference: tolerance
 * 1e-5 sqrt(K) absolute + 1e-4 relative (as the CPU GEMM row of {@link Conformance}).
 */
public final class CudaSelfChecks {
    private CudaSelfChecks() {}

    private static final int[][] SHAPES = {{1, 1, 1}, {70, 72, 33}, {257, 129, 300}, {64, 64, 16}, {1000, 384, 96}};

    public static List<Conformance.Result> ownGemms(CudaBackend backend) {
        List<Conformance.Result> out = new ArrayList<>();
        for (String variant : new String[] {"gemm_bf16_mma", "gemm_bf16_simt", "gemm_f32_simt"}) {
            long t0 = System.nanoTime();
            String detail = null;
            try {
                synchronized (backend) {
                    check(backend.device(), variant);
                }
            } catch (Conformance.Mismatch m) {
                detail = m.getMessage();
            } catch (RuntimeException | LinkageError e) {
                detail = e.getClass().getSimpleName() + ": " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            }
            out.add(new Conformance.Result("own " + variant, detail == null, detail == null ? "ok" : detail, (System.nanoTime() - t0) / 1e9));
        }
        return out;
    }

    private static void check(CudaDevice dev, String variant) {
        dev.makeCurrent();
        CudaOps own = new CudaOps(dev, CudaOps.GemmPath.OWN);
        long seed = 1;
        for (int[] s : SHAPES) {
            int M = s[0], N = s[1], K = s[2];
            for (boolean tA : new boolean[] {false, true}) {
                for (boolean tB : new boolean[] {false, true}) {
                    float beta = tA ? 0.5f : 0f;
                    float[] A = round(Conformance.randn(seed++, M * K)), B = round(Conformance.randn(seed++, K * N));
                    float[] C0 = Conformance.randn(seed++, M * N), expected = C0.clone(), actual = new float[M * N];
                    ReferenceBackend.INSTANCE.gemm(tA, tB, M, N, K, 0.75f, A, 0, B, 0, beta, expected, 0);
                    try (DeviceBuffer a = dev.upload(A, 0, A.length); DeviceBuffer b = dev.upload(B, 0, B.length);
                         DeviceBuffer c = dev.upload(C0, 0, C0.length)) {
                        if (variant.equals("gemm_f32_simt")) {
                            own.gemm(tA, tB, M, N, K, 0.75f, a, 0, b, 0, beta, c, 0, CudaOps.GemmPrecision.FP32);
                        } else {
                            try (DeviceBuffer a16 = own.castToBf16(a, 0, A.length); DeviceBuffer b16 = own.castToBf16(b, 0, B.length)) {
                                if (variant.equals("gemm_bf16_mma")) own.gemmBf16(tA, tB, 1, M, N, K, 0.75f, a16, 0, 0, b16, 0, 0, beta, c, 0, 0);
                                else own.gemmBf16Simt(tA, tB, 1, M, N, K, 0.75f, a16, 0, 0, b16, 0, 0, beta, c, 0, 0);
                            }
                        }
                        dev.download(c, actual, 0, actual.length);
                    }
                    Conformance.close(variant + " M=" + M + " N=" + N + " K=" + K + " tA=" + tA + " tB=" + tB + " beta=" + beta,
                            expected, actual, 1e-5 * Math.sqrt(K), 1e-4);
                }
            }
        }
    }

    private static float[] round(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = FloatFormats.roundToBf16(a[i]);
        return a;
    }
}
