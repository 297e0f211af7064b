package io.r1kit.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Dense bf16 tensor-core peaks (TFLOPS, without sparsity) from the vendors' data sheets, matched
 * by a substring of the CUDA device name. Unknown devices give null (the bench then prints no
 * ratio rather than guessing).
 */
final class GpuPeaks {
    private GpuPeaks() {}

    // most specific names first: "H100 PCIe" must not match the SXM entry
    private static final Map<String, Double> BF16_DENSE_TFLOPS = new LinkedHashMap<>();

    static {
        BF16_DENSE_TFLOPS.put("H200", 989.0);
        BF16_DENSE_TFLOPS.put("H100 PCIE", 756.0);
        BF16_DENSE_TFLOPS.put("H100 NVL", 835.0);
        BF16_DENSE_TFLOPS.put("H100", 989.0);   // SXM
        BF16_DENSE_TFLOPS.put("A100", 312.0);
        BF16_DENSE_TFLOPS.put("L40S", 362.0);
        BF16_DENSE_TFLOPS.put("L40", 181.0);
        BF16_DENSE_TFLOPS.put("L4", 121.0);
        BF16_DENSE_TFLOPS.put("A10", 125.0);    // after A100, which contains "A10"
        BF16_DENSE_TFLOPS.put("A40", 150.0);
        BF16_DENSE_TFLOPS.put("RTX 4090", 165.0);
        BF16_DENSE_TFLOPS.put("RTX 3090", 71.0);
    }

    /** The bf16 dense peak of the named device, or null when unknown. */
    static Double bf16DenseTflops(String deviceName) {
        String n = deviceName.toUpperCase(Locale.ROOT);
        for (Map.Entry<String, Double> e : BF16_DENSE_TFLOPS.entrySet()) if (n.contains(e.getKey())) return e.getValue();
        return null;
    }
}
