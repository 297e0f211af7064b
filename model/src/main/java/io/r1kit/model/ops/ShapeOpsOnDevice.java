package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Tensor;

import java.util.List;

/**
 * The device forms of transpose, slice and concat (shapes already checked by {@link ShapeOps}).
 * Slice and concat view every tensor as [outer, n, inner] around the dim, so each input is one
 * 2-D block copy ({@link DeviceBackend#copy2d}: outer rows of n·inner contiguous floats), and the
 * backward is the same copy in the other direction, accumulating. Transpose reuses the strided
 * broadcast kernel: out = x · 1 with x read through its strides with the two dims exchanged
 * (multiplying by 1 is exact, -0 and NaN included), its backward the kernel's gradient through
 * the same strides (each element of dx receives exactly one term, so the order of atomics does
 * not matter). Rank ≤ 4 there, like every strided op of loss.cu.
 */
final class ShapeOpsOnDevice {
    private ShapeOpsOnDevice() {}

    static Tensor slice(Tensor x, int outer, int n, int inner, int start, int len, int[] outShape) {
        DeviceBackend dev = OnDevice.safePoint(x.device());
        Tensor out = Tensor.zerosOn(dev, outShape);
        long block = (long) len * inner;
        dev.copy2d(out.deviceArray("slice"), 0, block, x.deviceArray("slice"), (long) start * inner, (long) n * inner, outer, block,
                false);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("slice", x) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.copy2d(input(0).deviceGradBuffer(), (long) start * inner, (long) n * inner, g, 0, block, outer, block, true);
            }
        });
        return out;
    }

    static Tensor concat(List<Tensor> xs, int outer, int inner, int[] sizes, int total, int[] outShape) {
        Tensor[] ins = xs.toArray(new Tensor[0]);
        DeviceBackend dev = OnDevice.deviceOf("concat", ins);
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray O = out.deviceArray("concat");
        long ld = (long) total * inner;
        for (int k = 0, at = 0; k < ins.length; at += sizes[k], k++) {
            long block = (long) sizes[k] * inner;
            dev.copy2d(O, (long) at * inner, ld, ins[k].deviceArray("concat"), 0, block, outer, block, false);
        }
        if (Grad.needsGrad(ins)) Grad.attach(out, new OnDevice.DeviceNode("concat", ins) {
            @Override
            void backwardOn(DeviceArray g) {
                for (int k = 0, at = 0; k < sizes.length; at += sizes[k], k++) {
                    Tensor t = input(k);
                    long block = (long) sizes[k] * inner;
                    if (t.requiresGrad()) dev.copy2d(t.deviceGradBuffer(), 0, block, g, (long) at * inner, ld, outer, block, true);
                }
            }
        });
        return out;
    }

    static Tensor transpose(Tensor x, int d0, int d1, int[] outShape) {
        int r = outShape.length;
        if (r > 4) throw new IllegalArgumentException("transpose on a device: rank " + r + " > 4 (the strided kernels' limit)");
        DeviceBackend dev = OnDevice.safePoint(x.device());
        int[] s = x.shape(), stride = new int[r];
        for (int i = r - 1, st = 1; i >= 0; i--) { stride[i] = st; st *= s[i]; }
        int[] read = stride.clone();      // x's stride per output dim
        read[d0] = stride[d1];
        read[d1] = stride[d0];
        int[] none = new int[r];          // the ones scalar, broadcast everywhere
        OnDevice.Ref one = OnDevice.scratch(dev, 1);
        dev.fill(one.array, 1f, 1);
        Tensor out = Tensor.zerosOn(dev, outShape);
        dev.binary(BinaryOp.MUL, out.deviceArray("transpose"), x.deviceArray("transpose"), one.array, outShape, read, none);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("transpose", x) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor xi = input(0);
                dev.binaryBackward(BinaryOp.MUL, xi.deviceGradBuffer(), null, g, xi.deviceArray("transpose"), one.array, outShape,
                        read, none);
            }
        });
        return out;
    }
}
