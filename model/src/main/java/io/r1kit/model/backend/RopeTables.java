package io.r1kit.model.backend;

import java.util.Map;

/**
 * The cos/sin tables [maxPos, D/2] the {@link Backend#rope} kernel reads, computed the way
 * Hugging Face transformers does ({@code modeling_rope_utils.ROPE_INIT_FUNCTIONS}):
 * inv_freq[i] = theta^(-2i/D) for i < D/2, optionally rescaled by the model's
 * {@code rope_scaling}, and cos[p, i] = cos(p * inv_freq[i]), sin likewise.
 *
 * <p>Everything is computed in double and rounded to float once at the end. transformers does
 * the same arithmetic in float32 (inv_freq, then p * inv_freq), so its angles carry an extra
 * rounding error of about p * 2^-24 rad: at position 4096 the two tables differ by up to ~3e-4,
 * and ours is the more accurate one. The attention scaling factor of the default, linear and
 * llama3 types is 1, so no factor is applied to cos/sin.
 */
public final class RopeTables {

    /** Which of transformers' rope types to apply (the {@code rope_type} key of {@code rope_scaling}). */
    public enum ScalingType { DEFAULT, LINEAR, LLAMA3 }

    /**
     * A model's {@code rope_scaling} block. {@code factor} is used by LINEAR (positions divided
     * by it) and LLAMA3; the other fields only by LLAMA3 ({@code _compute_llama3_parameters}).
     */
    public record Scaling(ScalingType type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {
        public Scaling {
            if (type == null) throw new IllegalArgumentException("rope_scaling: type is null");
            if (type != ScalingType.DEFAULT && !(factor > 0)) {
                throw new IllegalArgumentException("rope_scaling." + type.name().toLowerCase()
                        + ": factor must be > 0, got " + factor);
            }
            if (type == ScalingType.LLAMA3) {
                if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
                    throw new IllegalArgumentException("rope_scaling.llama3: need 0 < low_freq_factor < high_freq_factor, got "
                            + lowFreqFactor + " and " + highFreqFactor);
                }
                if (originalMaxPositionEmbeddings <= 0) {
                    throw new IllegalArgumentException("rope_scaling.llama3: original_max_position_embeddings must be > 0, got "
                            + originalMaxPositionEmbeddings);
                }
            }
        }

        /** No scaling ({@code rope_scaling} absent or {@code rope_type: "default"}). */
        public static Scaling none() {
            return new Scaling(ScalingType.DEFAULT, 1, 0, 0, 0);
        }

        /** {@code rope_type: "linear"}: every position is divided by {@code factor}. */
        public static Scaling linear(double factor) {
            return new Scaling(ScalingType.LINEAR, factor, 0, 0, 0);
        }

        /** {@code rope_type: "llama3"} (Llama 3.1+: factor 8, low 1, high 4, original 8192). */
        public static Scaling llama3(double factor, double lowFreqFactor, double highFreqFactor,
                                     int originalMaxPositionEmbeddings) {
            return new Scaling(ScalingType.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
        }

        /**
         * Reads a config.json {@code rope_scaling} object (already parsed to a map). null or an
         * empty map means no scaling; the type is taken from {@code rope_type} (or the older
         * {@code type}). Unsupported types (yarn, dynamic, longrope, ...) fail naming the type.
         */
        public static Scaling fromConfig(Map<String, ?> ropeScaling) {
            if (ropeScaling == null || ropeScaling.isEmpty()) return none();
            Object t = ropeScaling.containsKey("rope_type") ? ropeScaling.get("rope_type") : ropeScaling.get("type");
            String type = t == null ? "default" : t.toString();
            return switch (type) {
                case "default" -> none();
                case "linear" -> linear(number(ropeScaling, "factor"));
                case "llama3" -> llama3(number(ropeScaling, "factor"), number(ropeScaling, "low_freq_factor"),
                        number(ropeScaling, "high_freq_factor"),
                        (int) number(ropeScaling, "original_max_position_embeddings"));
                default -> throw new IllegalArgumentException("rope_scaling: rope_type \"" + type
                        + "\" is not supported (supported: default, linear, llama3)");
            };
        }

        private static double number(Map<String, ?> m, String key) {
            Object v = m.get(key);
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException("rope_scaling: key \"" + key + "\" must be a number, got " + v);
            }
            return n.doubleValue();
        }
    }

    private final int headDim;
    private final int maxPos;
    private final float[] cos;
    private final float[] sin;

    private RopeTables(int headDim, int maxPos, float[] cos, float[] sin) {
        this.headDim = headDim;
        this.maxPos = maxPos;
        this.cos = cos;
        this.sin = sin;
    }

    /** Unscaled tables ({@code rope_scaling} absent): {@code build(headDim, maxPos, theta, Scaling.none())}. */
    public static RopeTables build(int headDim, int maxPos, double theta) {
        return build(headDim, maxPos, theta, Scaling.none());
    }

    /**
     * Builds the tables for positions [0, maxPos) and head dim {@code headDim} (even).
     * @param theta the model's {@code rope_theta} (e.g. 10000, 500000, 1000000)
     */
    public static RopeTables build(int headDim, int maxPos, double theta, Scaling scaling) {
        if (maxPos < 0) throw new IllegalArgumentException("RopeTables: maxPos must be >= 0, got " + maxPos);
        double[] invFreq = inverseFrequencies(headDim, theta, scaling);
        int half = headDim / 2;
        double posScale = scaling.type() == ScalingType.LINEAR ? 1.0 / scaling.factor() : 1.0;
        float[] cos = new float[maxPos * half], sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double angle = (p * posScale) * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new RopeTables(headDim, maxPos, cos, sin);
    }

    /**
     * inv_freq[D/2] in double: theta^(-2i/D), then llama3's per-frequency rescaling. (LINEAR
     * scaling is applied to the positions in {@link #build}; here it leaves inv_freq as is.)
     */
    public static double[] inverseFrequencies(int headDim, double theta, Scaling scaling) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("RopeTables: head dim must be even and > 0, got " + headDim);
        }
        if (!(theta > 1)) throw new IllegalArgumentException("RopeTables: rope_theta must be > 1, got " + theta);
        if (scaling == null) throw new IllegalArgumentException("RopeTables: scaling is null (use Scaling.none())");
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        if (scaling.type() == ScalingType.LLAMA3) {
            // transformers _compute_llama3_parameters: long wavelengths (low frequencies) are
            // slowed down by `factor`, short ones kept, and the band between blended smoothly.
            double factor = scaling.factor(), lo = scaling.lowFreqFactor(), hi = scaling.highFreqFactor();
            double oldLen = scaling.originalMaxPositionEmbeddings();
            double lowFreqWavelen = oldLen / lo, highFreqWavelen = oldLen / hi;
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen > lowFreqWavelen) {
                    inv[i] = inv[i] / factor;
                } else if (wavelen >= highFreqWavelen) {   // medium band: not < high and not > low
                    double smooth = (oldLen / wavelen - lo) / (hi - lo);
                    inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                }
            }
        }
        return inv;
    }

    /**
     * Tables from given inverse frequencies, cos and sin multiplied by {@code attentionFactor}
     * (transformers' {@code attention_scaling}, not 1 for yarn): cos[p, i] = cos(p·inv[i])·factor.
     */
    public static RopeTables fromInverseFrequencies(int maxPos, double[] invFreq, double attentionFactor) {
        int half = invFreq.length, headDim = 2 * half;
        float[] cos = new float[maxPos * half], sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * invFreq[i];
                cos[p * half + i] = (float) (Math.cos(angle) * attentionFactor);
                sin[p * half + i] = (float) (Math.sin(angle) * attentionFactor);
            }
        }
        return new RopeTables(headDim, maxPos, cos, sin);
    }

    public int headDim() { return headDim; }

    public int maxPos() { return maxPos; }

    /** cos[maxPos, headDim/2], row p = position p. The array is shared, not copied: do not modify. */
    public float[] cos() { return cos; }

    /** sin[maxPos, headDim/2], row p = position p. The array is shared, not copied: do not modify. */
    public float[] sin() { return sin; }
}
