package io.r1kit.model.autograd;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Tensor;

import java.util.function.UnaryOperator;

/**
 * {@link Checkpoint#run} for a device tensor: the same recompute-in-backward, with the block's
 * output re-wrapped over its device storage (no copy) and the recomputed block's backward seeded
 * from the device gradient. The recompute passes the same host index arrays (ids, positions, key
 * mask) as the forward, which the device reuses from its upload cache, so checkpointing adds
 * compute but no transfers.
 */
final class DeviceCheckpoint {
    private DeviceCheckpoint() {}

    static Tensor run(UnaryOperator<Tensor> block, Tensor x) {
        Tensor y;
        try (var ng = Grad.noGrad()) {
            y = block.apply(x);
        }
        Tensor out = Tensor.onDevice(y.storage(), y.shape());   // a fresh object: the block's result is never a graph node
        return Grad.attach(out, new Node("checkpoint", x) {
            private UnaryOperator<Tensor> f = block;

            @Override
            protected void backward(float[] gradOut) {
                throw new IllegalStateException("checkpoint: a device block received a host gradient");
            }

            @Override
            protected void backwardDevice(DeviceArray gradOut) {
                Tensor xi = input(0);
                DeviceBackend dev = xi.device();
                Tensor xd = xi.detach().requiresGrad(xi.requiresGrad());
                Tensor y2;
                try (var g = Grad.enableGrad()) {
                    y2 = f.apply(xd);
                }
                if (y2.requiresGrad()) Backward.runOnDeviceFrom(y2, gradOut);
                DeviceArray gx = xd.deviceGrad();
                if (xi.requiresGrad() && gx != null) dev.axpy(1f, gx, xi.deviceGradBuffer(), xi.numel());
            }

            @Override
            protected void release() {
                f = null;
                super.release();
            }
        });
    }
}
