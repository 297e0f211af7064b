package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.HfModelConfig;

/**
 * YaRN RoPE as transformers computes it for DeepSeek-V3 ({@code _compute_yarn_parameters} and
 * {@code DeepseekV3Attention}'s softmax scale): the inverse frequencies blend interpolation
 * (÷ factor) and extrapolation over a linear ramp between the correction dims of beta_fast and
 * beta_slow (floored / ceiled), cos and sin are multiplied by the attention factor
 * mscale(factor, mscale) / mscale(factor, mscale_all_dim) (or mscale(factor) when either is 0),
 * and the softmax scale by mscale(factor, mscale_all_dim)² when mscale_all_dim is set.
 */
final class YarnRope {
    private YarnRope() {}

    /** transformers' yarn_get_mscale. */
    static double mscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    /** The rope tables of width {@code dim} for positions [0, maxPos). */
    static RopeTables tables(int dim, int maxPos, double base, HfModelConfig.RopeScaling rs) {
        HfModelConfig.Yarn y = rs.yarn();
        double factor = rs.factor();
        int origMax = rs.originalMaxPositionEmbeddings() > 0 ? rs.originalMaxPositionEmbeddings() : maxPos;
        double attn = y.attentionFactor();
        if (Double.isNaN(attn)) {
            attn = y.mscale() != 0 && y.mscaleAllDim() != 0 ? mscale(factor, y.mscale()) / mscale(factor, y.mscaleAllDim()) : mscale(factor, 1);
        }
        double low = Math.max(Math.floor(correctionDim(y.betaFast(), dim, base, origMax)), 0);
        double high = Math.min(Math.ceil(correctionDim(y.betaSlow(), dim, base, origMax)), dim - 1);
        if (low == high) high += 0.001;   // transformers: prevent a singular ramp
        int half = dim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            double posFreq = Math.pow(base, (2.0 * i) / dim);
            double extrapolation = 1.0 / posFreq, interpolation = 1.0 / (factor * posFreq);
            double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
            double extrapolationFactor = 1 - ramp;
            inv[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return RopeTables.fromInverseFrequencies(maxPos, inv, attn);
    }

    private static double correctionDim(double rotations, int dim, double base, int maxPos) {
        return dim * Math.log(maxPos / (rotations * 2 * Math.PI)) / (2 * Math.log(base));
    }

    /** DeepseekV3Attention's softmax scale: qk_head_dim^-½, times mscale(factor, mscale_all_dim)² under yarn. */
    static double softmaxScale(int qkHeadDim, HfModelConfig.RopeScaling rs) {
        double s = 1.0 / Math.sqrt(qkHeadDim);
        if (rs != null && rs.yarn() != null && rs.yarn().mscaleAllDim() != 0) {
            double m = mscale(rs.factor(), rs.yarn().mscaleAllDim());
            s *= m * m;
        }
        return s;
    }
}
