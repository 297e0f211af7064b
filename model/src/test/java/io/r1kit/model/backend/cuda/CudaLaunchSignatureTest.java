package io.r1kit.model.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.cublasHandle;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.r1kit.model.backend.device.UnaryOp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Java/CUDA boundary without a GPU: every {@link CudaOps} method is run against a recording
 * fake device, and each launch is checked against the C signature parsed from the kernel source —
 * same number of parameters, pointer where the kernel takes a pointer, Integer for int, Long for
 * long long, Float for float (a mismatch would pass garbage to the kernel and could not be caught
 * any other way here) — and against the launch limits (block a multiple of 32 up to 1024, grid
 * y/z <= 65535, dynamic shared memory within sm_80's 163 KiB per block). Also: every temporary
 * device buffer is released.
 */
class CudaLaunchSignatureTest {

    enum Kind { PTR, INT, LONG, FLOAT }

    static Map<String, List<Kind>> signatures() {
        Map<String, List<Kind>> sigs = new HashMap<>();
        for (String file : KernelSources.FILES) {
            String src = KernelSources.read(file);
            for (String entry : KernelSources.entryPoints(src)) {
                Matcher m = Pattern.compile("\\b" + entry + "\\s*\\(([^)]*)\\)").matcher(src);
                assertTrue(m.find(), entry);
                List<Kind> kinds = new ArrayList<>();
                for (String p : m.group(1).split(",")) {
                    String t = p.trim().replaceAll("\\s+", " ");
                    if (t.contains("*")) kinds.add(Kind.PTR);
                    else if (t.startsWith("long long ")) kinds.add(Kind.LONG);
                    else if (t.startsWith("int ")) kinds.add(Kind.INT);
                    else if (t.startsWith("float ")) kinds.add(Kind.FLOAT);
                    else fail(entry + ": unexpected parameter type in '" + t + "'");
                }
                sigs.put(entry, kinds);
            }
        }
        return sigs;
    }

    static final class Recorder implements DeviceApi {
        final Map<String, List<Kind>> sigs = signatures();
        final Set<String> launched = new HashSet<>();
        final List<String> problems = new ArrayList<>();
        int allocs, releases;

        @Override public DeviceBuffer alloc(long bytes) {
            allocs++;
            return new DeviceBuffer(this, new CachingAllocator.Block<>(new CUdeviceptr(), CachingAllocator.roundUp(bytes)), bytes);
        }

        @Override public void release(DeviceBuffer b) { releases++; }

        @Override public void launch(Kernel k, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
            launched.add(k.entry);
            List<Kind> want = sigs.get(k.entry);
            if (want == null) { problems.add(k.entry + ": not in the sources"); return; }
            if (want.size() != args.length) {
                problems.add(k.entry + ": " + args.length + " arguments passed, the kernel takes " + want.size());
                return;
            }
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                Kind got = a == null || a instanceof DeviceBuffer || a instanceof CUdeviceptr ? Kind.PTR
                        : a instanceof Integer ? Kind.INT : a instanceof Long ? Kind.LONG : a instanceof Float ? Kind.FLOAT : null;
                if (got != want.get(i)) problems.add(k.entry + ": parameter " + i + " is " + want.get(i) + " but got " + (a == null ? "null" : a.getClass().getSimpleName()));
            }
            if (gx < 1 || gy < 1 || gz < 1 || gy > 65535 || gz > 65535) problems.add(k.entry + ": grid " + gx + "x" + gy + "x" + gz);
            if (block < 32 || block > 1024 || block % 32 != 0) problems.add(k.entry + ": block " + block);
            if (sharedBytes > 163 * 1024) problems.add(k.entry + ": " + sharedBytes + " bytes of shared memory exceed sm_80's 163 KiB");
        }

        @Override public int elementwiseGrid(long n) { return (int) Math.max(1, Math.min((n + 255) / 256, 108 * 32)); }

        @Override public void download(DeviceBuffer b, double[] dst, int n) { java.util.Arrays.fill(dst, 0, n, 0.0); }

        @Override public cublasHandle cublas() { throw new UnsupportedOperationException("cuBLAS is not faked"); }
    }

    @Test
    void everyLaunchMatchesItsKernelSignatureAndLimits() {
        Recorder dev = new Recorder();
        CudaOps ops = new CudaOps(dev);
        int N = 7, C = 33, V = 129, B = 2, Tq = 5, Tk = 9, Hq = 4, Hkv = 2;
        DeviceBuffer x = dev.alloc(1 << 20), y = dev.alloc(1 << 20), z = dev.alloc(1 << 20), w = dev.alloc(1 << 20), u = dev.alloc(1 << 20);
        ops.add(x, y, z, 100); ops.mul(x, y, z, 100); ops.axpy(2f, x, y, 100); ops.scale(x, y, 3f, 100);
        ops.sum(x, 100_000, false); ops.sum(x, 5, true); ops.sumInto(x, 10, true, y, true); ops.clipByGlobalNorm(x, 10, y, 1f);
        ops.maskedSum(x, y, 77);
        ops.castToBf16(x, 3, 50).close(); ops.bf16ToF32(x, y, 50);
        ops.rmsnormForward(x, y, z, w, N, C, 1e-6f); ops.rmsnormBackward(x, y, z, w, u, x, 100_000, C);
        ops.rope(x, x, y, z, w, N, 3, 64, true);
        ops.swigluForward(x, y, z, 11); ops.swigluBackward(x, y, z, w, u, 11);
        for (int D : new int[] {8, 64, 128, 256}) {
            ops.attentionForward(x, y, z, w, u, null, B, Tq, Tk, Hq, Hkv, D, Tk - Tq, 0.125f);
            ops.attentionBackward(x, y, z, w, u, x, y, z, w, u, B, Tq, Tk, Hq, Hkv, D, Tk - Tq, 0.125f);
        }
        ops.softmaxForward(x, y, N, V); ops.softmaxBackward(x, y, z, N, V);
        ops.logSoftmaxForward(x, y, N, V); ops.logSoftmaxBackward(x, y, z, N, V);
        ops.tokenLogProbsForward(x, y, z, w, N, V); ops.tokenLogProbsBackward(x, y, z, w, u, N, V);
        ops.entropyForward(x, y, z, N, V); ops.entropyBackward(x, y, z, w, u, N, V);
        ops.embeddingForward(x, y, z, N, C); ops.embeddingBackward(x, y, z, N, 3000);
        ops.adamw(x, y, z, w, 1000, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.1f, 0.05f);
        ops.adamwBf16(x, y, z, w, u, 1000, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.1f, 0.05f, 0.5f);
        ops.sample(x, y, z, w, N, V, 0.7f, 50, 0.9f, 0.05f, 0);
        ops.kvAppend(x, y, z, B, 3, 16, Hkv * 64);
        ops.kvGather(x, y, z, 4, 16L * Hkv * 64);
        for (int op = 0; op < UnaryOp.values().length; op++) { ops.unary(op, x, y, 100, 2f, 3f); ops.unaryBackward(op, x, y, z, w, 100, 2f, 3f); }
        int[] shape = {2, 3, 4}, sa = {12, 4, 1}, sb = {1, 0, 0};
        ops.binary(3, x, y, z, shape, sa, sb); ops.binaryBackward(4, x, null, y, z, w, shape, sa, sb);
        ops.where(x, y, z, w, shape, sb, sa, sb); ops.whereBackward(null, x, y, z, shape, sb, sa, sb);
        ops.maskedReduce(x, y, null, 2, 3, 4, true); ops.maskedReduceBackward(x, y, z, 1, 24, 1, true);
        ops.copy2d(x, 3, 10, y, 1, 7, 4, 5, false); ops.copy2d(x, 0, 5, y, 0, 5, 4, 5, true);
        CudaOps own = new CudaOps(dev, CudaOps.GemmPath.OWN);
        own.gemm(true, false, 130, 65, 33, 1f, x, 1, y, 2, 0f, z, 3, CudaOps.GemmPrecision.FP32);
        own.gemmBatched(false, true, 3, 7, 9, 5, 1f, x, 0, 45, y, 0, 0, 1f, z, 0, 63, CudaOps.GemmPrecision.BF16);
        own.gemmBf16Simt(false, false, 2, 7, 9, 5, 1f, x, 0, 35, y, 0, 45, 0f, z, 0, 63);
        for (DeviceBuffer b : List.of(x, y, z, w, u)) b.close();

        assertTrue(dev.problems.isEmpty(), String.join("\n", dev.problems));
        Set<String> all = new HashSet<>(dev.sigs.keySet());
        all.removeAll(dev.launched);
        assertTrue(all.isEmpty(), "kernels no CudaOps method launched: " + all);
        assertEquals(dev.allocs, dev.releases, "every temporary device buffer is returned to the cache");
    }

    @Test
    void attentionRejectsHeadDimsAboveTheKernelLimitAndBadGroups() {
        Recorder dev = new Recorder();
        CudaOps ops = new CudaOps(dev);
        DeviceBuffer x = dev.alloc(16);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ops.attentionForward(x, x, x, x, x, null, 1, 1, 1, 1, 1, 257, 0, 1f));
        assertTrue(e.getMessage().contains("D=257"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ops.attentionBackward(x, x, x, x, x, x, x, x, x, null, 1, 1, 1, 3, 2, 64, 0, 1f));
    }
}
