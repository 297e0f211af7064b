package io.r1kit.model.backend.device;

import io.r1kit.model.backend.Backend;

/**
 * A {@link DeviceBackend} seen through the host-array {@link Backend} interface: every call copies
 * its operands to the device (outputs too, since backward kernels accumulate), runs the device
 * kernel of the same name and copies the outputs back. For checking a device's kernels with the
 * {@code Conformance} cases written against {@code Backend}, not for speed.
 */
public final class DeviceKernels implements Backend {
    private final DeviceBackend dev;

    public DeviceKernels(DeviceBackend dev) {
        this.dev = dev;
    }

    @Override public String name() { return dev.name(); }

    private DeviceArray up(float[] a) {
        return dev.upload(a, 0, a.length, "operand");
    }

    private DeviceArray up(float[] a, int off, int n) {
        return dev.upload(a, off, n, "operand");
    }

    private void down(DeviceArray src, float[] dst) {
        dev.read(src, 0, dst, 0, dst.length, "result");
    }

    private void down(DeviceArray src, float[] dst, int off, int n) {
        dev.read(src, 0, dst, off, n, "result");
    }

    @Override
    public void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff,
                     float beta, float[] C, int cOff) {
        DeviceArray a = up(A, aOff, M * K), b = up(B, bOff, K * N), c = up(C, cOff, M * N);   // either layout: M·K and K·N elements
        dev.gemm(transA, transB, M, N, K, alpha, a, 0, b, 0, beta, c, 0);
        down(c, C, cOff, M * N);
    }

    @Override
    public void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff,
                            int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) {
        DeviceArray a = up(A), b = up(B), c = up(C);
        dev.gemmBatched(transA, transB, batch, M, N, K, alpha, a, aOff, strideA, b, bOff, strideB, beta, c, cOff, strideC);
        down(c, C);
    }

    @Override public void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        DeviceArray o = up(out, oOff, n);
        dev.add(o, up(a, aOff, n), up(b, bOff, n), n);
        down(o, out, oOff, n);
    }

    @Override public void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        DeviceArray o = up(out, oOff, n);
        dev.mul(o, up(a, aOff, n), up(b, bOff, n), n);
        down(o, out, oOff, n);
    }

    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        DeviceArray yy = up(y, yOff, n);
        dev.axpy(alpha, up(x, xOff, n), yy, n);
        down(yy, y, yOff, n);
    }

    @Override public void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        DeviceArray o = up(out, oOff, n);
        dev.scale(o, up(a, aOff, n), alpha, n);
        down(o, out, oOff, n);
    }

    private double sum(float[] a, int aOff, int n, boolean squares) {
        try (DeviceArray acc = dev.alloc(ElementType.F64, 1)) {
            dev.sumInto(up(a, aOff, n), n, squares, acc, false);
            return dev.readF64(acc, "sum");
        }
    }

    @Override public double sum(float[] a, int aOff, int n) { return sum(a, aOff, n, false); }

    @Override public double sumSquares(float[] a, int aOff, int n) { return sum(a, aOff, n, true); }

    @Override public void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        DeviceArray o = up(out), r = up(rstd);
        dev.rmsnormForward(o, r, up(x), up(w), N, C, eps);
        down(o, out);
        down(r, rstd);
    }

    @Override public void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        DeviceArray ddx = up(dx), ddw = up(dw);
        dev.rmsnormBackward(ddx, ddw, up(dout), up(x), up(w), up(rstd), N, C);
        down(ddx, dx);
        down(ddw, dw);
    }

    @Override public void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        DeviceArray o = up(out);
        dev.rope(o, up(x), dev.upload(pos, "pos"), up(cos), up(sin), R, H, D, inverse);
        down(o, out);
    }

    @Override public void swigluForward(float[] out, float[] a, float[] b, int n) {
        DeviceArray o = up(out);
        dev.swigluForward(o, up(a), up(b), n);
        down(o, out);
    }

    @Override public void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        DeviceArray dda = up(da), ddb = up(db);
        dev.swigluBackward(dda, ddb, up(dout), up(a), up(b), n);
        down(dda, da);
        down(ddb, db);
    }

    private DeviceArray mask(byte[] keyMask) {
        return keyMask == null ? null : dev.upload(keyMask, "keyMask");
    }

    @Override
    public void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk,
                                 int Hq, int Hkv, int D, int qStart, float scale) {
        DeviceArray o = up(out), l = up(lse);
        dev.attentionForward(o, l, up(q), up(k), up(v), mask(keyMask), B, Tq, Tk, Hq, Hkv, D, qStart, scale);
        down(o, out);
        down(l, lse);
    }

    @Override
    public void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out,
                                  float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart,
                                  float scale) {
        DeviceArray ddq = up(dq), ddk = up(dk), ddv = up(dv);
        dev.attentionBackward(ddq, ddk, ddv, up(dout), up(q), up(k), up(v), up(out), up(lse), mask(keyMask), B, Tq, Tk, Hq, Hkv,
                D, qStart, scale);
        down(ddq, dq);
        down(ddk, dk);
        down(ddv, dv);
    }

    @Override public void softmaxForward(float[] out, float[] x, int N, int V) {
        DeviceArray o = up(out);
        dev.softmaxForward(o, up(x), N, V);
        down(o, out);
    }

    @Override public void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        DeviceArray d = up(dx);
        dev.softmaxBackward(d, up(dy), up(y), N, V);
        down(d, dx);
    }

    @Override public void logSoftmaxForward(float[] out, float[] x, int N, int V) {
        DeviceArray o = up(out);
        dev.logSoftmaxForward(o, up(x), N, V);
        down(o, out);
    }

    @Override public void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        DeviceArray d = up(dx);
        dev.logSoftmaxBackward(d, up(dy), up(y), N, V);
        down(d, dx);
    }

    @Override public void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        DeviceArray o = up(out), l = up(lse);
        dev.tokenLogProbsForward(o, l, up(logits), dev.upload(target, "target"), N, V);
        down(o, out);
        down(l, lse);
    }

    @Override
    public void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        DeviceArray d = up(dlogits);
        dev.tokenLogProbsBackward(d, up(dout), up(logits), up(lse), dev.upload(target, "target"), N, V);
        down(d, dlogits);
    }

    @Override public void entropyForward(float[] out, float[] lse, float[] logits, int N, int V) {
        DeviceArray o = up(out), l = up(lse);
        dev.entropyForward(o, l, up(logits), N, V);
        down(o, out);
        down(l, lse);
    }

    @Override
    public void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        DeviceArray d = up(dlogits);
        dev.entropyBackward(d, up(dout), up(logits), up(lse), up(entropy), N, V);
        down(d, dlogits);
    }

    @Override public void embeddingForward(float[] out, float[] table, int[] ids, int N, int C) {
        DeviceArray o = up(out);
        dev.embeddingForward(o, up(table), dev.upload(ids, "ids"), N, C);
        down(o, out);
    }

    @Override public void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C) {
        DeviceArray d = up(dtable);
        dev.embeddingBackward(d, up(dout), dev.upload(ids, "ids"), N, C);
        down(d, dtable);
    }

    @Override
    public void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps,
                      float weightDecay, float bc1, float bc2) {
        DeviceArray dp = up(p, 0, n), dm = up(m, 0, n), dv = up(v, 0, n);
        dev.adamw(dp, up(g, 0, n), dm, dv, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
        down(dp, p, 0, n);
        down(dm, m, 0, n);
        down(dv, v, 0, n);
    }
}
