package io.r1kit.bench;

import java.util.Random;

/** Random inputs for the benchmarks (values do not change the timings; seeds keep runs alike). */
final class BenchData {
    private BenchData() {}

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
