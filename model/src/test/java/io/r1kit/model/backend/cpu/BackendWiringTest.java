package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.CpuBackend;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.backend.RopeTables;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every non-GEMM {@link Backend} method of {@link CpuBackend} and {@link ReferenceBackend} on
 * the same inputs: catches wiring mistakes (argument order, wrong kernel) in the two
 * delegating classes. Precision is the kernel tests' job; 1e-4 here only has to separate
 * "same op" from "different op".
 */
class BackendWiringTest {
    private static final double TOL = 1e-4;

    @Test
    void cpuAndReferenceBackendsAgree() {
        Backend f = CpuBackend.INSTANCE, r = ReferenceBackend.INSTANCE;
        Random rnd = new Random(90);
        int n = 37, N = 5, C = 19, V = 23;
        float[] a = gaussian(rnd, n + 3, 1), b = gaussian(rnd, n + 2, 1);
        float[] o1 = new float[n + 1], o2 = new float[n + 1];
        f.add(o1, 1, a, 3, b, 2, n); r.add(o2, 1, a, 3, b, 2, n); assertClose("add", o2, o1, TOL, TOL);
        f.mul(o1, 1, a, 3, b, 2, n); r.mul(o2, 1, a, 3, b, 2, n); assertClose("mul", o2, o1, TOL, TOL);
        f.scale(o1, 1, a, 3, 0.3f, n); r.scale(o2, 1, a, 3, 0.3f, n); assertClose("scale", o2, o1, TOL, TOL);
        f.axpy(0.3f, a, 3, o1, 1, n); r.axpy(0.3f, a, 3, o2, 1, n); assertClose("axpy", o2, o1, TOL, TOL);
        assertEquals(r.sum(a, 3, n), f.sum(a, 3, n), TOL);
        assertEquals(r.sumSquares(a, 3, n), f.sumSquares(a, 3, n), TOL);

        float[] x = gaussian(rnd, N * C, 1), w = gaussian(rnd, C, 1), dout = gaussian(rnd, N * C, 1);
        float[] y1 = new float[N * C], y2 = new float[N * C], s1 = new float[N], s2 = new float[N];
        f.rmsnormForward(y1, s1, x, w, N, C, 1e-6f); r.rmsnormForward(y2, s2, x, w, N, C, 1e-6f);
        assertClose("rmsnorm", y2, y1, TOL, TOL);
        float[] dx1 = new float[N * C], dx2 = new float[N * C], dw1 = new float[C], dw2 = new float[C];
        f.rmsnormBackward(dx1, dw1, dout, x, w, s2, N, C); r.rmsnormBackward(dx2, dw2, dout, x, w, s2, N, C);
        assertClose("rmsnorm dx", dx2, dx1, TOL, TOL);
        assertClose("rmsnorm dw", dw2, dw1, TOL, TOL);

        RopeTables rope = RopeTables.build(6, 16, 10000);
        int[] pos = {3, 0, 15, 7, 9};
        float[] rx = gaussian(rnd, N * 2 * 6, 1), r1 = new float[rx.length], r2 = new float[rx.length];
        for (boolean inv : new boolean[] {false, true}) {
            f.rope(r1, rx, pos, rope.cos(), rope.sin(), N, 2, 6, inv); r.rope(r2, rx, pos, rope.cos(), rope.sin(), N, 2, 6, inv);
            assertClose("rope inverse=" + inv, r2, r1, TOL, TOL);
        }

        f.swigluForward(y1, x, dout, N * C); r.swigluForward(y2, x, dout, N * C); assertClose("swiglu", y2, y1, TOL, TOL);
        dx1 = new float[N * C]; dx2 = new float[N * C];
        float[] db1 = new float[N * C], db2 = new float[N * C];
        f.swigluBackward(dx1, db1, dout, x, dout, N * C); r.swigluBackward(dx2, db2, dout, x, dout, N * C);
        assertClose("swiglu da", dx2, dx1, TOL, TOL);
        assertClose("swiglu db", db2, db1, TOL, TOL);

        float[] lg = gaussian(rnd, N * V, 2), dy = gaussian(rnd, N * V, 1), dn = gaussian(rnd, N, 1);
        float[] p1 = new float[N * V], p2 = new float[N * V];
        f.softmaxForward(p1, lg, N, V); r.softmaxForward(p2, lg, N, V); assertClose("softmax", p2, p1, TOL, TOL);
        float[] g1 = new float[N * V], g2 = new float[N * V];
        f.softmaxBackward(g1, dy, p2, N, V); r.softmaxBackward(g2, dy, p2, N, V); assertClose("softmax bwd", g2, g1, TOL, TOL);
        f.logSoftmaxForward(p1, lg, N, V); r.logSoftmaxForward(p2, lg, N, V); assertClose("log-softmax", p2, p1, TOL, TOL);
        f.logSoftmaxBackward(g1, dy, p2, N, V); r.logSoftmaxBackward(g2, dy, p2, N, V); assertClose("log-softmax bwd", g2, g1, TOL, TOL);
        int[] tgt = {0, 22, -1, 5, 11};
        float[] t1 = new float[N], t2 = new float[N], l1 = new float[N], l2 = new float[N];
        f.tokenLogProbsForward(t1, l1, lg, tgt, N, V); r.tokenLogProbsForward(t2, l2, lg, tgt, N, V);
        assertClose("token logprob", t2, t1, TOL, TOL);
        f.tokenLogProbsBackward(g1, dn, lg, l2, tgt, N, V); r.tokenLogProbsBackward(g2, dn, lg, l2, tgt, N, V);
        assertClose("token logprob bwd", g2, g1, TOL, TOL);
        f.entropyForward(t1, l1, lg, N, V); r.entropyForward(t2, l2, lg, N, V); assertClose("entropy", t2, t1, TOL, TOL);
        f.entropyBackward(g1, dn, lg, l2, t2, N, V); r.entropyBackward(g2, dn, lg, l2, t2, N, V);
        assertClose("entropy bwd", g2, g1, TOL, TOL);

        int[] ids = {4, 0, 4, 2, 1};
        float[] table = gaussian(rnd, 5 * C, 1);
        f.embeddingForward(y1, table, ids, N, C); r.embeddingForward(y2, table, ids, N, C); assertClose("embedding", y2, y1, 0, 0);
        float[] dt1 = new float[5 * C], dt2 = new float[5 * C];
        f.embeddingBackward(dt1, dout, ids, N, C); r.embeddingBackward(dt2, dout, ids, N, C); assertClose("embedding bwd", dt2, dt1, 0, 0);

        float[] pa = gaussian(rnd, n, 1), pb = pa.clone(), ma = new float[n], mb = new float[n], va = new float[n], vb = new float[n];
        f.adamw(pa, a, ma, va, n, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f, 0.1f, 0.01f);
        r.adamw(pb, a, mb, vb, n, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f, 0.1f, 0.01f);
        assertClose("adamw p", pb, pa, TOL, TOL);

        int B = 2, T = 6, Hq = 4, Hkv = 2, D = 5;
        float[] q = gaussian(rnd, B * T * Hq * D, 1), k = gaussian(rnd, B * T * Hkv * D, 1), v = gaussian(rnd, B * T * Hkv * D, 1);
        float[] ao = gaussian(rnd, q.length, 1);
        byte[] mask = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
        float[] out1 = new float[q.length], out2 = new float[q.length], lse1 = new float[B * Hq * T], lse2 = new float[B * Hq * T];
        f.attentionForward(out1, lse1, q, k, v, mask, B, T, T, Hq, Hkv, D, 0, 0.4f);
        r.attentionForward(out2, lse2, q, k, v, mask, B, T, T, Hq, Hkv, D, 0, 0.4f);
        assertClose("attention", out2, out1, TOL, TOL);
        assertClose("attention lse", lse2, lse1, TOL, TOL);
        float[] dq1 = new float[q.length], dq2 = new float[q.length], dk1 = new float[k.length], dk2 = new float[k.length];
        float[] dv1 = new float[v.length], dv2 = new float[v.length];
        f.attentionBackward(dq1, dk1, dv1, ao, q, k, v, out2, lse2, mask, B, T, T, Hq, Hkv, D, 0, 0.4f);
        r.attentionBackward(dq2, dk2, dv2, ao, q, k, v, out2, lse2, mask, B, T, T, Hq, Hkv, D, 0, 0.4f);
        assertClose("attention dq", dq2, dq1, TOL, TOL);
        assertClose("attention dk", dk2, dk1, TOL, TOL);
        assertClose("attention dv", dv2, dv1, TOL, TOL);
    }
}
