package io.r1kit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * RMSNorm followed by rotary embedding on [rows, heads * headDim], forward + backward: r1kit's
 * {@link Backend#rmsnormForward}, {@link Backend#rope} (and their backward) against libtorch
 * composed as in Hugging Face Llama/Qwen (x * rsqrt(mean(x²) + eps) * w, rotate_half, autograd).
 */
final class RmsNormRopeBench {
    record Case(int rows, int heads, int headDim) {
        int width() { return heads * headDim; }
    }

    record Row(Case c, SideBySideTimer.Result r, String unavailable) {}

    static List<Case> cases(boolean quick) {
        List<Case> cs = new ArrayList<>();
        cs.add(new Case(512, 8, 64));
        if (!quick) {
            cs.add(new Case(2048, 8, 64));
            cs.add(new Case(2048, 16, 64));
        }
        return cs;
    }

    static Row run(Case c, Backend backend, NDManager nd, SideBySideTimer timer) throws Exception {
        int R = c.rows(), H = c.heads(), D = c.headDim(), C = c.width(), half = D / 2;
        float eps = 1e-6f;
        Random r = new Random(R + C);
        float[] x = BenchData.random(r, R * C), w = BenchData.random(r, C), dz = BenchData.random(r, R * C);
        float[] y = new float[R * C], z = new float[R * C], rstd = new float[R];
        float[] dy = new float[R * C], dx = new float[R * C], dw = new float[C];
        // Positions 0..T-1 per sequence of 256 tokens; tables [maxPos, D/2].
        int T = 256;
        int[] pos = new int[R];
        for (int i = 0; i < R; i++) pos[i] = i % T;
        float[] cos = new float[T * half], sin = new float[T * half];
        float[] cosFull = new float[R * D], sinFull = new float[R * D];     // libtorch: [R, 1, D]
        for (int p = 0; p < T; p++) {
            for (int i = 0; i < half; i++) {
                double theta = p / Math.pow(10000.0, 2.0 * i / D);
                cos[p * half + i] = (float) Math.cos(theta);
                sin[p * half + i] = (float) Math.sin(theta);
            }
        }
        for (int row = 0; row < R; row++) {
            for (int i = 0; i < D; i++) {
                cosFull[row * D + i] = cos[pos[row] * half + i % half];
                sinFull[row * D + i] = sin[pos[row] * half + i % half];
            }
        }
        SideBySideTimer.Work r1kit = () -> {
            backend.rmsnormForward(y, rstd, x, w, R, C, eps);
            backend.rope(z, y, pos, cos, sin, R, H, D, false);
            backend.rope(dy, dz, pos, cos, sin, R, H, D, true);  // backward of a rotation: the inverse rotation (overwrites dy)
            backend.rmsnormBackward(dx, dw, dy, x, w, rstd, R, C);
        };
        try {
            r1kit.run();
        } catch (UnsupportedOperationException e) {
            return new Row(c, null, e.getMessage());
        }
        try (NDManager sub = nd.newSubManager()) {
            NDArray tx = sub.create(x, new Shape(R, C));
            NDArray tw = sub.create(w, new Shape(C));
            NDArray tdz = sub.create(dz, new Shape(R, H, D));
            NDArray tcos = sub.create(cosFull, new Shape(R, 1, D));
            NDArray tsin = sub.create(sinFull, new Shape(R, 1, D));
            tx.setRequiresGradient(true);
            tw.setRequiresGradient(true);
            SideBySideTimer.Work torch = () -> {
                try (NDManager step = sub.newSubManager()) {
                    for (NDArray a : new NDArray[] {tx, tw, tdz, tcos, tsin}) a.tempAttach(step);
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        NDArray ms = tx.square().mean(new int[] {-1}, true).add(eps);
                        NDArray yy = tx.div(ms.sqrt()).mul(tw).reshape(new Shape(R, H, D));
                        NDArray x1 = yy.get("..., :" + half), x2 = yy.get("..., " + half + ":");
                        NDArray rot = NDArrays.concat(new NDList(x2.neg(), x1), -1);
                        NDArray zz = yy.mul(tcos).add(rot.mul(tsin));
                        gc.backward(zz.mul(tdz).sum());
                    }
                }
            };
            return new Row(c, timer.time(r1kit, torch), null);
        }
    }
}
