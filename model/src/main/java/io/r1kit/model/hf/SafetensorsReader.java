package io.r1kit.model.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.model.fp8.Fp8Arrays;
import io.r1kit.model.fp8.Fp8Format;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads one {@code .safetensors} file. The file is treated as untrusted: {@link #open} validates
 * the whole header (length against the file size, JSON syntax, duplicate names, dtypes, shapes,
 * byte ranges that must tile the data section exactly as the spec requires) before anything is
 * read, so a bad file gives a {@link CheckpointException} naming the file and tensor and never an
 * out-of-bounds read.
 *
 * <p>Layout (https://github.com/huggingface/safetensors): 8-byte little-endian header length N,
 * N bytes of UTF-8 JSON {@code {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [b, e]},
 * "__metadata__": {str: str}}}, then the data section; offsets are relative to its start.
 *
 * <p>Tensors are loaded lazily, one at a time: each load memory-maps only that tensor's byte range
 * ({@link FileChannel#map}, in chunks below 2 GiB) and widens it to float32, so the heap never
 * holds the raw file. Loads are thread-safe.
 */
public final class SafetensorsReader implements AutoCloseable {

    /** Largest header we accept; the official implementation uses the same 100 MB cap. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Largest byte range mapped at once (MappedByteBuffer is int-indexed). */
    private static final long MAP_CHUNK = 1L << 30;

    private final Path file;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, TensorInfo> tensors; // in data order
    private final Map<String, String> metadata;

    private SafetensorsReader(Path file, FileChannel channel, long dataStart,
                              Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates a safetensors file. */
    public static SafetensorsReader open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file, null, "file is " + size + " bytes, too small for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new CheckpointException(file, null, "header length " + Long.toUnsignedString(headerLen)
                        + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (corrupt or not a safetensors file)");
            }
            if (headerLen < 2) {
                throw new CheckpointException(file, null, "header length " + headerLen + " is too small for a JSON object");
            }
            if (8 + headerLen > size) {
                throw new CheckpointException(file, null, "header length " + headerLen + " points past the end of the file ("
                        + size + " bytes; truncated file?)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            byte[] header = hb.array();
            if (header[0] != '{') {
                throw new CheckpointException(file, null, "header does not start with '{' (not a safetensors file?)");
            }
            long dataSize = size - 8 - headerLen;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(file, header, dataSize, metadata);
            return new SafetensorsReader(file, ch, 8 + headerLen, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new CheckpointException(file, null, "unexpected end of file at byte " + pos);
            pos += n;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path file, byte[] header, long dataSize,
                                                       Map<String, String> metadataOut) throws CheckpointException {
        JsonNode root;
        try {
            root = HfJson.STRICT.readTree(header);
        } catch (StreamReadException e) {
            String msg = e.getOriginalMessage();
            if (msg != null && msg.startsWith("Duplicate field")) {
                throw new CheckpointException(file, null, "header has a duplicate tensor name: " + msg, e);
            }
            throw new CheckpointException(file, null, "header is not valid JSON: " + msg, e);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException(file, null, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file, null, "header must be a JSON object");
        }
        List<TensorInfo> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new CheckpointException(file, name, "must be an object of string values");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) {
                        throw new CheckpointException(file, "__metadata__." + kv.getKey(), "metadata values must be strings");
                    }
                    metadataOut.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            list.add(parseEntry(file, name, v, dataSize));
        }
        // The spec requires the data section to be covered exactly: sorted by offset, every tensor
        // starts where the previous one ended and the last ends at the end of the file.
        list.sort(Comparator.comparingLong(TensorInfo::dataBegin).thenComparingLong(TensorInfo::dataEnd));
        long expected = 0;
        TensorInfo prev = null;
        for (TensorInfo t : list) {
            if (t.dataBegin() < expected) {
                throw new CheckpointException(file, t.name(), "byte range [" + t.dataBegin() + ", " + t.dataEnd()
                        + ") overlaps tensor '" + prev.name() + "' [" + prev.dataBegin() + ", " + prev.dataEnd() + ")");
            }
            if (t.dataBegin() > expected) {
                throw new CheckpointException(file, t.name(), "byte range starts at " + t.dataBegin()
                        + " but the previous tensor ends at " + expected + " (the spec forbids gaps in the data section)");
            }
            expected = t.dataEnd();
            prev = t;
        }
        if (expected != dataSize) {
            throw new CheckpointException(file, prev == null ? null : prev.name(), "tensors cover " + expected
                    + " bytes but the data section has " + dataSize + " bytes (trailing data)");
        }
        Map<String, TensorInfo> out = new LinkedHashMap<>();
        for (TensorInfo t : list) out.put(t.name(), t);
        return out;
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode v, long dataSize) throws CheckpointException {
        if (!v.isObject()) throw new CheckpointException(file, name, "header entry must be an object with dtype, shape and data_offsets");
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) throw new CheckpointException(file, name, "missing or non-string 'dtype'");
        DType dtype = DType.fromHeaderName(dt.textValue());
        if (dtype == null) {
            throw new CheckpointException(file, name, "unknown dtype '" + dt.textValue() + "' (expected one of "
                    + Arrays.toString(DType.values()) + ")");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) throw new CheckpointException(file, name, "missing or non-array 'shape'");
        int[] shape = new int[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0 || d.longValue() > Integer.MAX_VALUE) {
                throw new CheckpointException(file, name, "shape dimension " + i + " is " + d + "; expected an integer in [0, "
                        + Integer.MAX_VALUE + "]");
            }
            shape[i] = d.intValue();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException ex) {
                throw new CheckpointException(file, name, "shape " + sh + " overflows the element count");
            }
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new CheckpointException(file, name, "'data_offsets' must be an array [begin, end]");
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = off.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new CheckpointException(file, name, "data_offsets[" + i + "] is " + o + "; expected a non-negative integer");
            }
            be[i] = o.longValue();
        }
        long begin = be[0], end = be[1];
        if (end < begin) throw new CheckpointException(file, name, "data_offsets end " + end + " is before begin " + begin);
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, name, "shape " + sh + " overflows the byte count");
        }
        if (bytes != end - begin) {
            throw new CheckpointException(file, name, "shape " + sh + " of " + dtype + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + ") span " + (end - begin));
        }
        if (end > dataSize) {
            throw new CheckpointException(file, name, "data_offsets [" + begin + ", " + end + ") lie outside the data section ("
                    + dataSize + " bytes; truncated file?)");
        }
        return new TensorInfo(name, dtype, shape, begin, end, file);
    }

    /** The file this reader reads. */
    public Path file() {
        return file;
    }

    /** Tensor entries in data order. */
    public Map<String, TensorInfo> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Header entry of a tensor; throws naming the file when absent. */
    public TensorInfo info(String name) throws CheckpointException {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new CheckpointException(file, name, "no such tensor in this file");
        return t;
    }

    /**
     * Loads a floating-point tensor (F32, BF16, F16 widened exactly; F64 rounded to float32; F8_E4M3
     * and F8_E5M2 codes widened exactly, without any scale: {@link HfCheckpoint#load} applies a
     * {@code _scale_inv}).
     */
    public float[] loadFloats(String name) throws IOException {
        TensorInfo t = info(name);
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, name, n + " elements do not fit a Java float[]");
        }
        float[] out = new float[(int) n];
        loadFloatsInto(name, out, 0);
        return out;
    }

    /** Loads a floating-point tensor into {@code dst[offset .. offset+numel)}. */
    public void loadFloatsInto(String name, float[] dst, int offset) throws IOException {
        TensorInfo t = info(name);
        DType dt = t.dtype();
        if (!dt.isFloatLoadable()) {
            throw new CheckpointException(file, name, "dtype " + dt + " cannot be loaded as float32 weights "
                    + "(supported: F32, BF16, F16, F64, F8_E4M3, F8_E5M2" + (dt.isIntegerLoadable() ? "; use loadLongs for integer tensors)" : ")"));
        }
        long n = t.numel();
        if (offset < 0 || offset + n > dst.length) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + n + " elements; destination has "
                    + dst.length + " from offset " + offset);
        }
        int esz = dt.byteSize();
        long elemsPerChunk = MAP_CHUNK / esz;
        long done = 0;
        while (done < n) {
            int count = (int) Math.min(elemsPerChunk, n - done);
            ByteBuffer b = map(t, done * esz, (long) count * esz);
            int o = offset + (int) done;
            switch (dt) {
                case F32 -> b.asFloatBuffer().get(dst, o, count);
                case BF16 -> {
                    var sb = b.asShortBuffer();
                    for (int i = 0; i < count; i++) dst[o + i] = FloatFormats.bf16ToFloat(sb.get(i));
                }
                case F16 -> {
                    var sb = b.asShortBuffer();
                    for (int i = 0; i < count; i++) dst[o + i] = FloatFormats.f16ToFloat(sb.get(i));
                }
                case F64 -> {
                    var db = b.asDoubleBuffer();
                    for (int i = 0; i < count; i++) dst[o + i] = (float) db.get(i);
                }
                case F8_E4M3, F8_E5M2 -> {
                    byte[] codes = new byte[count];
                    b.get(codes);
                    Fp8Arrays.decode(Fp8Format.of(dt), codes, 0, dst, o, count, 1f);
                }
                default -> throw new AssertionError(dt);
            }
            done += count;
        }
    }

    /** The raw bytes of a one-byte tensor (F8_E4M3, F8_E5M2, U8, I8, BOOL): FP8 codes as stored. */
    public byte[] loadBytes(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.dtype().byteSize() != 1) {
            throw new CheckpointException(file, name, "dtype " + t.dtype() + " is not a one-byte type (expected F8_E4M3, F8_E5M2, U8, I8 or BOOL)");
        }
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) throw new CheckpointException(file, name, n + " elements do not fit a Java byte[]");
        byte[] out = new byte[(int) n];
        long done = 0;
        while (done < n) {
            int count = (int) Math.min(MAP_CHUNK, n - done);
            map(t, done, count).get(out, (int) done, count);
            done += count;
        }
        return out;
    }

    /** Loads an integer or bool tensor (I64/I32/I16/I8/U32/U16/U8/BOOL) as longs. */
    public long[] loadLongs(String name) throws IOException {
        TensorInfo t = info(name);
        DType dt = t.dtype();
        if (!dt.isIntegerLoadable()) {
            throw new CheckpointException(file, name, "dtype " + dt + " is not an integer type loadable as long[]");
        }
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) throw new CheckpointException(file, name, n + " elements do not fit a Java long[]");
        long[] out = new long[(int) n];
        if (n == 0) return out;
        ByteBuffer b = map(t, 0, t.byteSize()); // integer tensors in checkpoints are small buffers
        for (int i = 0; i < n; i++) {
            out[i] = switch (dt) {
                case I64 -> b.getLong(i * 8);
                case I32 -> b.getInt(i * 4);
                case U32 -> b.getInt(i * 4) & 0xFFFF_FFFFL;
                case I16 -> b.getShort(i * 2);
                case U16 -> b.getShort(i * 2) & 0xFFFF;
                case I8 -> b.get(i);
                case U8 -> b.get(i) & 0xFF;
                case BOOL -> b.get(i) != 0 ? 1 : 0;
                default -> throw new AssertionError(dt);
            };
        }
        return out;
    }

    /** A read-only little-endian view of {@code length} bytes of a tensor starting {@code from} bytes into it. */
    private ByteBuffer map(TensorInfo t, long from, long length) throws IOException {
        if (length == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        if (length > Integer.MAX_VALUE) throw new IllegalStateException("chunk too large: " + length);
        long pos = dataStart + t.dataBegin() + from;
        if (pos + length > channel.size()) {
            // The header was validated against the size at open; the file has since been truncated.
            throw new CheckpointException(file, t.name(), "file shrank after it was opened (now " + channel.size() + " bytes)");
        }
        MappedByteBuffer mb = channel.map(FileChannel.MapMode.READ_ONLY, pos, length);
        return mb.order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Loads every floating-point tensor, in data order. */
    public Map<String, float[]> loadAllFloats() throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : tensors.keySet()) out.put(name, loadFloats(name));
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
