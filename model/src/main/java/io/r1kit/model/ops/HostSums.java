package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.tensor.Tensor;

/**
 * Reductions whose result the host needs (a metric, a normaliser, a per-example loss), written once
 * for both places a tensor can live. On the host they are loops over the values with double
 * accumulators; on a device they are device reductions of which only the result is copied back
 * (a few bytes, labelled for the transfer log), so no [N, T] tensor crosses for a number.
 */
public final class HostSums {
    private HostSums() {}

    /**
     * Σ x·mask over the elements where mask ≠ 0: on the host the products x·mask in fp32 summed in
     * double; on a device one masked reduction read back as 4 bytes labelled {@code what}.
     */
    public static double maskedSum(Tensor x, Tensor mask, String what) {
        // not one form: the host sums fp32 products in double, the device's reduction double products rounded to fp32
        if (!x.isOnDevice()) {
            float[] e = x.data(), m = mask.data();
            double s = 0;
            for (int k = 0; k < m.length; k++) if (m[k] != 0) s += e[k] * m[k];
            return s;
        }
        try (var ng = Grad.noGrad()) {
            return F.maskedSum(x, mask).item(what);
        }
    }

    /** Σ x: on the host a double loop; on a device one reduction read back as 4 bytes labelled {@code what}. */
    public static double sum(Tensor x, String what) {
        // not one form: the host's double result is not rounded to fp32 as the device's read-back is
        if (!x.isOnDevice()) {
            double s = 0;
            for (float v : x.data()) s += v;
            return s;
        }
        try (var ng = Grad.noGrad()) {
            return F.sum(x).item(what);
        }
    }

    /**
     * −Σ_t x[b, t] for each row b of a [B, T] tensor: on the host {@code s −= x} in double along the
     * row; on a device one row-sum reduction whose B results come back in one copy, negated there.
     */
    public static double[] negatedRowSums(Tensor x) {
        if (x.rank() != 2) throw new IllegalArgumentException("negatedRowSums: expected a [B, T] tensor, got " + x);
        int rows = x.dim(0), cols = x.dim(1);
        double[] out = new double[rows];
        // not one form: the host subtracts in double along the row, the device's row sums come back as fp32
        if (x.isOnDevice()) {
            try (var ng = Grad.noGrad()) {
                float[] sums = F.sum(x, 1, false).data();
                for (int b = 0; b < rows; b++) out[b] = -sums[b];
            }
            return out;
        }
        float[] v = x.data();
        for (int b = 0; b < rows; b++) {
            double s = 0;
            for (int t = 0; t < cols; t++) s -= v[b * cols + t];
            out[b] = s;
        }
        return out;
    }
}
