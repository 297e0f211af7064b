package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;

/**
 * Softmax family over the last dim (V): softmax, log-softmax, and the fused per-token
 * log-prob and entropy ops that read [N, V] logits and only ever write [N]-sized outputs
 * (plus lse [N]) in the forward pass.
 */
final class SoftmaxOps {
    private SoftmaxOps() {}

    static Tensor softmax(Tensor x, boolean log) {
        int[] s = x.shape();
        if (s.length < 1) throw new IllegalArgumentException((log ? "logSoftmax" : "softmax") + ": needs rank >= 1");
        int V = s[s.length - 1], N = x.numel() / V;
        return softmaxOn(x, log, N, V);
    }

    /** logits [..., V], targets: one per row (negative = ignored → 0) → [...]. */
    static Tensor tokenLogProbs(Tensor logits, int[] targets) {
        int[] s = logits.shape();
        if (s.length < 1) throw new IllegalArgumentException("tokenLogProbs: logits need rank >= 1");
        int V = s[s.length - 1], N = logits.numel() / V;
        if (targets.length != N)
            throw new IllegalArgumentException("tokenLogProbs: " + targets.length + " targets for " + N + " rows of logits " + Shape.str(s));
        for (int i = 0; i < N; i++)
            if (targets[i] >= V)
                throw new IndexOutOfBoundsException("tokenLogProbs: target " + targets[i] + " at row " + i + " >= vocab " + V);
        return tokenLogProbsOn(logits, targets, N, V);
    }

    /** Entropy of softmax(logits) per row: [..., V] → [...]. */
    static Tensor entropy(Tensor logits) {
        int[] s = logits.shape();
        if (s.length < 1) throw new IllegalArgumentException("entropy: logits need rank >= 1");
        int V = s[s.length - 1], N = logits.numel() / V;
        return entropyOn(logits, N, V);
    }

    // ------------------------------------------------------------------ on the input's backend (host or device)

    private static Tensor softmaxOn(Tensor x, boolean log, int N, int V) {
        String op = log ? "logSoftmax" : "softmax";
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        Tensor out = Tensor.zerosOn(dev, x.shape());
        if (log) dev.logSoftmaxForward(out.deviceArray(op), x.deviceArray(op), N, V);
        else dev.softmaxForward(out.deviceArray(op), x.deviceArray(op), N, V);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            private Tensor y = out;

            @Override
            void backwardOn(DeviceArray g) {
                DeviceArray dx = input(0).deviceGradBuffer();
                if (log) dev.logSoftmaxBackward(dx, g, y.deviceArray(op), N, V);
                else dev.softmaxBackward(dx, g, y.deviceArray(op), N, V);
            }

            @Override
            protected void release() {
                y = null;
                super.release();
            }
        });
        return out;
    }

    /** targets are uploaded once per array (the "ids in" edge of a device); lse [N] stays where the logits are. */
    private static Tensor tokenLogProbsOn(Tensor logits, int[] targets, int N, int V) {
        DeviceBackend dev = OnDevice.safePoint(logits.backend());
        int[] s = logits.shape();
        OnDevice.Ref t = OnDevice.ints(dev, targets, "tokenLogProbs targets [" + N + "]");
        OnDevice.Ref lse = OnDevice.scratch(dev, N);
        Tensor out = Tensor.zerosOn(dev, Arrays.copyOf(s, s.length - 1));
        dev.tokenLogProbsForward(out.deviceArray("tokenLogProbs"), lse.array, logits.deviceArray("tokenLogProbs"), t.array, N, V);
        if (Grad.needsGrad(logits)) Grad.attach(out, new OnDevice.DeviceNode("tokenLogProbs", logits) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor l = input(0);
                dev.tokenLogProbsBackward(l.deviceGradBuffer(), g, l.deviceArray("tokenLogProbs"), lse.array, t.array, N, V);
            }
        });
        return out;
    }

    private static Tensor entropyOn(Tensor logits, int N, int V) {
        DeviceBackend dev = OnDevice.safePoint(logits.backend());
        int[] s = logits.shape();
        OnDevice.Ref lse = OnDevice.scratch(dev, N);
        Tensor out = Tensor.zerosOn(dev, Arrays.copyOf(s, s.length - 1));
        dev.entropyForward(out.deviceArray("entropy"), lse.array, logits.deviceArray("entropy"), N, V);
        if (Grad.needsGrad(logits)) Grad.attach(out, new OnDevice.DeviceNode("entropy", logits) {
            private Tensor h = out;

            @Override
            void backwardOn(DeviceArray g) {
                Tensor l = input(0);
                dev.entropyBackward(l.deviceGradBuffer(), g, l.deviceArray("entropy"), lse.array, h.deviceArray("entropy"), N, V);
            }

            @Override
            protected void release() {
                h = null;
                super.release();
            }
        });
        return out;
    }
}
