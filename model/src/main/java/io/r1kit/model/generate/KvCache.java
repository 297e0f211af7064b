package io.r1kit.model.generate;

import io.r1kit.model.arch.ModelConfig;

/**
 * Keys and values of every sequence being generated, one buffer per (layer, row) laid out
 * [capacity, Hkv, D] so that row r is exactly the k/v operand [B=1, Tk=capacity, Hkv, D] of the
 * attention kernel. Each row holds only its real tokens, starting at slot 0 (ragged prompts need
 * no padding during decode), and has its own capacity (prompt + max_new_tokens).
 */
final class KvCache {
    final int layers, rowStride; // rowStride = Hkv * D
    final float[][][] k, v;      // [layer][row] -> [capacity * Hkv * D]
    final int[] length, capacity;

    KvCache(ModelConfig c, int rows) {
        this.layers = c.numLayers();
        this.rowStride = c.numKvHeads() * c.headDim();
        this.k = new float[layers][rows][];
        this.v = new float[layers][rows][];
        this.length = new int[rows];
        this.capacity = new int[rows];
    }

    int rows() {
        return length.length;
    }

    /** (Re)allocates row r with room for {@code cap} tokens and empties it; reuses the buffer when big enough. */
    void allocate(int r, int cap) {
        for (int l = 0; l < layers; l++) {
            if (k[l][r] == null || k[l][r].length < cap * rowStride) {
                k[l][r] = new float[cap * rowStride];
                v[l][r] = new float[cap * rowStride];
            }
        }
        capacity[r] = k[0][r].length / rowStride;
        length[r] = 0;
    }

    /** Copies the first length[src] tokens of row src into row dst (group sampling: one prefill, n rows). */
    void copyRow(int src, int dst) {
        int n = length[src] * rowStride;
        if (capacity[dst] < length[src]) throw new IllegalStateException("KvCache: row " + dst + " too small to copy row " + src);
        for (int l = 0; l < layers; l++) {
            System.arraycopy(k[l][src], 0, k[l][dst], 0, n);
            System.arraycopy(v[l][src], 0, v[l][dst], 0, n);
        }
        length[dst] = length[src];
    }

    /** Frees row r's buffers. */
    void release(int r) {
        for (int l = 0; l < layers; l++) {
            k[l][r] = null;
            v[l][r] = null;
        }
        length[r] = 0;
        capacity[r] = 0;
    }
}
