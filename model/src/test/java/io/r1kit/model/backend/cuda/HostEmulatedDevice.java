package io.r1kit.model.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.cublasHandle;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link DeviceApi} whose "device" is the host emulation of CUDA (cuda_host_emu.h + runner.cpp,
 * built with g++ from the REAL kernel sources): {@link CudaOps} runs unchanged on it, its launches
 * (with the production grid/block/shared-memory choices) are queued, and a download runs the queue
 * in the runner process and reads all buffers back. Buffers are identified through fake device
 * addresses (buffer id in the high 32 bits) so offsets made by {@code withByteOffset} still resolve.
 */
final class HostEmulatedDevice implements DeviceApi {
    private static final Field NATIVE_POINTER, BYTE_OFFSET;

    static {
        try {
            NATIVE_POINTER = NativePointerObject.class.getDeclaredField("nativePointer");
            NATIVE_POINTER.setAccessible(true);
            BYTE_OFFSET = Pointer.class.getDeclaredField("byteOffset");
            BYTE_OFFSET.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private record Launch(Kernel k, int gx, int gy, int gz, int block, int smem, Object[] args) {}

    private final Path runner, work;
    private final List<byte[]> buffers = new ArrayList<>();
    private final List<Launch> pending = new ArrayList<>();
    int released;

    HostEmulatedDevice(Path runner, Path work) {
        this.runner = runner;
        this.work = work;
    }

    @Override public DeviceBuffer alloc(long bytes) {
        int id = buffers.size();
        buffers.add(new byte[(int) Math.max(8, bytes)]);
        CUdeviceptr p = new CUdeviceptr();
        try {
            NATIVE_POINTER.setLong(p, ((long) id + 1) << 32);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
        return new DeviceBuffer(this, new CachingAllocator.Block<>(p, bytes), bytes);
    }

    @Override public void release(DeviceBuffer b) { released++; }

    @Override public void launch(Kernel k, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        if (gx == 0 || gy == 0 || gz == 0) return;
        Object[] snapshot = args.clone();
        // resolve buffers now: like a real launch, the pointer is taken at enqueue time, and a
        // temporary may be released (returned to the cache) right after it is enqueued
        for (int i = 0; i < snapshot.length; i++) if (snapshot[i] instanceof DeviceBuffer d) snapshot[i] = d.ptr();
        pending.add(new Launch(k, gx, gy, gz, block, sharedBytes, snapshot));
    }

    @Override public int elementwiseGrid(long n) { return (int) Math.max(1, Math.min((n + 255) / 256, 4)); }

    @Override public void download(DeviceBuffer b, double[] dst, int n) {
        flush();
        ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(dst, 0, n);
    }

    @Override public cublasHandle cublas() { throw new UnsupportedOperationException("no cuBLAS in the host emulation"); }

    DeviceBuffer upload(float[] a) {
        DeviceBuffer b = alloc(4L * a.length);
        ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(a);
        return b;
    }

    DeviceBuffer upload(int[] a) {
        DeviceBuffer b = alloc(4L * a.length);
        ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(a);
        return b;
    }

    DeviceBuffer upload(byte[] a) {
        DeviceBuffer b = alloc(a.length);
        System.arraycopy(a, 0, bytesOf(b), 0, a.length);
        return b;
    }

    // the DeviceApi copies CudaDeviceBackend uses; host-side memory operations flush the queued
    // launches first, so they stay ordered with them as on the real stream

    @Override public DeviceBuffer upload(float[] a, int off, int n) {
        return upload(java.util.Arrays.copyOfRange(a, off, off + n));
    }

    @Override public DeviceBuffer upload(int[] a, int n) {
        return upload(java.util.Arrays.copyOf(a, n));
    }

    @Override public DeviceBuffer upload(byte[] a, int n) {
        return upload(java.util.Arrays.copyOf(a, n));
    }

    @Override public void write(DeviceBuffer dst, long dstOff, float[] src, int srcOff, int n) {
        flush();
        ByteBuffer bb = ByteBuffer.wrap(bytesOf(dst)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) bb.putFloat((int) (4 * (dstOff + i)), src[srcOff + i]);
    }

    @Override public void download(DeviceBuffer b, long from, float[] dst, int off, int n) {
        flush();
        ByteBuffer bb = ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) dst[off + i] = bb.getFloat((int) (4 * (from + i)));
    }

    @Override public void zero(DeviceBuffer b, long bytes) {
        flush();
        java.util.Arrays.fill(bytesOf(b), 0, (int) bytes, (byte) 0);
    }

    @Override public void fill32(DeviceBuffer b, int bits, long n) {
        flush();
        ByteBuffer bb = ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) bb.putInt(4 * i, bits);
    }

    float[] floats(DeviceBuffer b, int n) {
        flush();
        float[] out = new float[n];
        ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    int[] ints(DeviceBuffer b, int n) {
        flush();
        int[] out = new int[n];
        ByteBuffer.wrap(bytesOf(b)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
        return out;
    }

    private byte[] bytesOf(DeviceBuffer b) {
        return buffers.get(bufferId(b.ptr()));
    }

    private static int bufferId(CUdeviceptr p) {
        try {
            return (int) (NATIVE_POINTER.getLong(p) >>> 32) - 1;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long offsetOf(CUdeviceptr p) {
        try {
            return BYTE_OFFSET.getLong(p);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs the queued launches in the runner process and reads every buffer back. */
    void flush() {
        if (pending.isEmpty()) return;
        try {
            Path job = work.resolve("job.bin"), out = work.resolve("out.bin");
            ByteBuffer bb = ByteBuffer.allocate(jobSize()).order(ByteOrder.LITTLE_ENDIAN);
            bb.putInt(buffers.size());
            for (byte[] b : buffers) bb.putLong(b.length).put(b);
            bb.putInt(pending.size());
            for (Launch l : pending) {
                byte[] name = l.k().entry.getBytes(StandardCharsets.US_ASCII);
                bb.putInt(name.length).put(name).putInt(l.gx()).putInt(l.gy()).putInt(l.gz()).putInt(l.block()).putInt(l.smem());
                bb.putInt(l.args().length);
                for (Object a : l.args()) {
                    CUdeviceptr p = a == null ? null : a instanceof DeviceBuffer d ? d.ptr() : a instanceof CUdeviceptr c ? c : null;
                    if (a == null || p != null) {
                        bb.putInt(0).putInt(p == null ? -1 : bufferId(p)).putLong(p == null ? 0 : offsetOf(p));
                    } else if (a instanceof Integer v) bb.putInt(1).putInt(v);
                    else if (a instanceof Long v) bb.putInt(2).putLong(v);
                    else if (a instanceof Float v) bb.putInt(3).putFloat(v);
                    else throw new IllegalArgumentException("argument " + a);
                }
            }
            Files.write(job, java.util.Arrays.copyOf(bb.array(), bb.position()));
            pending.clear();
            Process proc = new ProcessBuilder(runner.toString(), job.toString(), out.toString()).redirectErrorStream(true).start();
            String log = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!proc.waitFor(5, TimeUnit.MINUTES) || proc.exitValue() != 0) throw new IllegalStateException("runner failed: " + log);
            ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
            int n = r.getInt();
            for (int i = 0; i < n; i++) {
                int len = (int) r.getLong();
                r.get(buffers.get(i), 0, len);
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private int jobSize() {
        long s = 16;
        for (byte[] b : buffers) s += 8 + b.length;
        for (Launch l : pending) s += 64 + l.k().entry.length() + 16L * l.args().length;
        return Math.toIntExact(s);
    }
}
