package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@code .safetensors} file the way the official writer does: tensors sorted by element
 * size (largest first) and then by name, compact JSON header
 * with {@code __metadata__} first, padded with spaces to a multiple of 8 bytes, then the tensor
 * bytes in header order with no gaps. Data is converted and streamed in 1 MiB chunks, and the file
 * is fsync'd before returning.
 */
public final class SafetensorsWriter {

    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {}

    /**
     * Writes {@code tensors} to {@code file} in {@code dtype} (F32 exact, or BF16 rounded to nearest even).
     *
     * @param metadata written as {@code __metadata__}; transformers expects {"format": "pt"}
     * @return the number of tensor data bytes written (excluding the header)
     */
    public static long write(Path file, Collection<NamedTensor> tensors, DType dtype, Map<String, String> metadata)
            throws IOException {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("can only write F32, BF16 or F16 tensors, not " + dtype);
        }
        List<StoredTensor> stored = new ArrayList<>();
        for (NamedTensor t : tensors) stored.add(StoredTensor.ofFloats(t, dtype));
        return writeMixed(file, stored, metadata);
    }

    /**
     * Writes tensors of possibly different dtypes (e.g. FP8 weights with F32 scales), ordered as the
     * official writer orders them: larger element size first, then by name.
     *
     * @return the number of tensor data bytes written (excluding the header)
     */
    public static long writeMixed(Path file, Collection<StoredTensor> tensors, Map<String, String> metadata) throws IOException {
        List<StoredTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingInt((StoredTensor t) -> -t.dtype().byteSize()).thenComparing(StoredTensor::name));
        Set<String> seen = new HashSet<>();
        for (StoredTensor t : sorted) {
            if (!seen.add(t.name())) throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "' for " + file);
        }
        byte[] header = header(sorted, metadata);
        long dataBytes = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (StoredTensor t : sorted) {
                if (t.bytes() != null) {
                    byte[] b = t.bytes();
                    for (int off = 0; off < b.length; ) {
                        if (!buf.hasRemaining()) {
                            buf.flip();
                            writeFully(ch, buf);
                            buf.clear();
                        }
                        int n = Math.min(buf.remaining(), b.length - off);
                        buf.put(b, off, n);
                        off += n;
                    }
                } else {
                    DType dtype = t.dtype();
                    for (float v : t.values()) {
                        if (buf.remaining() < 4) {
                            buf.flip();
                            writeFully(ch, buf);
                            buf.clear();
                        }
                        switch (dtype) {
                            case F32 -> buf.putFloat(v);
                            case BF16 -> buf.putShort(FloatFormats.floatToBf16(v));
                            case F16 -> buf.putShort(FloatFormats.floatToF16(v));
                            default -> throw new AssertionError(dtype);
                        }
                    }
                }
                dataBytes += t.byteSize();
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
        return dataBytes;
    }

    /** The padded header bytes (JSON followed by spaces up to a multiple of 8). */
    static byte[] header(List<StoredTensor> sortedTensors, Map<String, String> metadata) {
        ObjectNode root = HfJson.WRITER.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (StoredTensor t : sortedTensors) {
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().headerName());
            ArrayNode shape = e.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            long end = offset + t.byteSize();
            ArrayNode off = e.putArray("data_offsets");
            off.add(offset);
            off.add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
