package io.r1kit.pipeline.tensorboard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file: TFRecord framing (little-endian uint64 length, masked CRC32C of the
 * length, the data, masked CRC32C of the data) around {@code tensorflow.Event} protobuf messages,
 * encoded by hand for the few fields scalars need:
 * <pre>
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 * </pre>
 * The first record is the version event ({@code brain.Event:2}) TensorBoard expects.
 */
public final class EventFileWriter implements AutoCloseable {
    static final String FILE_VERSION = "brain.Event:2";
    private static final int MASK_DELTA = 0xa282ead8;

    private final OutputStream out;

    /** Starts a file on {@code out} with the version event stamped {@code wallTime}. */
    public EventFileWriter(OutputStream out, double wallTime) throws IOException {
        this.out = out;
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        fixed64Field(e, 1, Double.doubleToLongBits(wallTime));
        bytesField(e, 3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        writeRecord(out, e.toByteArray());
    }

    /** One event with a scalar per entry of {@code scalars} (tag to value; stored as float32, as TensorBoard does). */
    public void scalars(double wallTime, long step, Map<String, Double> scalars) throws IOException {
        ByteArrayOutputStream summary = new ByteArrayOutputStream();
        for (Map.Entry<String, Double> s : scalars.entrySet()) {
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            bytesField(v, 1, s.getKey().getBytes(StandardCharsets.UTF_8));
            tag(v, 2, 5);
            int bits = Float.floatToIntBits(s.getValue().floatValue());
            for (int i = 0; i < 4; i++) v.write(bits >>> (8 * i));
            bytesField(summary, 1, v.toByteArray());
        }
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        fixed64Field(e, 1, Double.doubleToLongBits(wallTime));
        tag(e, 2, 0);
        varint(e, step);
        bytesField(e, 5, summary.toByteArray());
        writeRecord(out, e.toByteArray());
    }

    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** One TFRecord: length, masked CRC32C of the length's 8 bytes, data, masked CRC32C of the data. */
    static void writeRecord(OutputStream out, byte[] data) throws IOException {
        byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length).array();
        out.write(len);
        out.write(le32(maskedCrc(len)));
        out.write(data);
        out.write(le32(maskedCrc(data)));
    }

    /** TFRecord's masked CRC32C: rotate right by 15 and add a constant (so CRCs of CRCs are not trivial). */
    static int maskedCrc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static void tag(ByteArrayOutputStream o, int field, int wireType) {
        varint(o, ((long) field << 3) | wireType);
    }

    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) {
            o.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }

    private static void fixed64Field(ByteArrayOutputStream o, int field, long bits) {
        tag(o, field, 1);
        for (int i = 0; i < 8; i++) o.write((int) (bits >>> (8 * i)));
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] b) {
        tag(o, field, 2);
        varint(o, b.length);
        o.writeBytes(b);
    }
}
