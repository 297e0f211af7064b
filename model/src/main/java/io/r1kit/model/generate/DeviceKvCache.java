package io.r1kit.model.generate;

import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;

/**
 * Keys and values of a wave's sequences on the device: per layer one F32 array [rows, maxT, Hkv·D]
 * (exactly the k/v operand [B, Tk, Hkv, D] of attention) and a U8 key mask [rows, maxT].
 *
 * <p>Rows are <em>aligned</em>: prompts are left-padded to the longest (T) and every live row
 * writes its next token at the same slot, so one scalar qStart (the slot) and the causal rule hide
 * the not-yet-written slots, and the key mask (0 on each row's padding, 1 after) never changes
 * while the rows stay the same: nothing per row has to be uploaded per step. When rows finish (or
 * a prompt is forked into n samples) {@link #select} gathers the kept rows on the device.
 */
final class DeviceKvCache implements AutoCloseable {
    private final DeviceBackend dev;
    final int maxT, rowStride;         // rowStride = Hkv * D
    private final DeviceArray[] k, v;  // [layer] -> [rows, maxT, rowStride]
    private byte[] hostMask;           // [rows, maxT], kept to re-upload the mask after select
    private DeviceArray mask;
    private int rows;

    /** An empty cache of rows with the given key mask [rows, maxT] (one upload). */
    DeviceKvCache(DeviceBackend dev, ModelConfig c, int rows, int maxT, byte[] keyMask) {
        this.dev = dev;
        this.maxT = maxT;
        this.rowStride = c.numKvHeads() * c.headDim();
        this.k = new DeviceArray[c.numLayers()];
        this.v = new DeviceArray[c.numLayers()];
        for (int l = 0; l < k.length; l++) {
            k[l] = dev.alloc(ElementType.F32, (long) rows * maxT * rowStride);
            v[l] = dev.alloc(ElementType.F32, (long) rows * maxT * rowStride);
        }
        this.rows = rows;
        setMask(keyMask, "key mask");
    }

    int rows() { return rows; }

    DeviceArray k(int layer) { return k[layer]; }

    DeviceArray v(int layer) { return v[layer]; }

    DeviceArray keyMask() { return mask; }

    /** Writes kRows, vRows F32 [rows, Tnew, rowStride] of one layer at slots start[b] .. + Tnew (start: I32 [rows]). */
    void append(int layer, DeviceArray kRows, DeviceArray vRows, DeviceArray start, int Tnew) {
        dev.kvAppend(k[layer], kRows, start, rows, Tnew, maxT, rowStride);
        dev.kvAppend(v[layer], vRows, start, rows, Tnew, maxT, rowStride);
    }

    /**
     * Keeps rows keep[0, m) in that order (an index may repeat: group fork); idx is keep on the
     * device (I32 [m], uploaded by the caller, who may reuse it for the logits). Re-uploads the mask.
     */
    void select(int[] keep, int m, DeviceArray idx, String why) {
        long slab = (long) maxT * rowStride;
        for (int l = 0; l < k.length; l++) {
            k[l] = gather(k[l], idx, m, slab);
            v[l] = gather(v[l], idx, m, slab);
        }
        byte[] kept = new byte[m * maxT];
        for (int i = 0; i < m; i++) System.arraycopy(hostMask, keep[i] * maxT, kept, i * maxT, maxT);
        rows = m;
        mask.close();
        setMask(kept, "key mask (" + why + ")");
    }

    private DeviceArray gather(DeviceArray src, DeviceArray idx, int m, long slab) {
        DeviceArray dst = dev.alloc(ElementType.F32, m * slab);
        dev.kvGather(dst, src, idx, m, slab);
        src.close();
        return dst;
    }

    private void setMask(byte[] m, String what) {
        if (m.length != rows * maxT) throw new IllegalArgumentException("DeviceKvCache: key mask has " + m.length + " entries, expected "
                + rows + " x " + maxT);
        hostMask = m;
        mask = dev.upload(m, what);
    }

    @Override
    public void close() {
        for (int l = 0; l < k.length; l++) {
            k[l].close();
            v[l].close();
        }
        mask.close();
    }
}
