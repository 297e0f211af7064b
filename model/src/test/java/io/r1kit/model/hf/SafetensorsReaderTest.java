package io.r1kit.model.hf;

import static io.r1kit.model.hf.SafetensorsTestFiles.concat;
import static io.r1kit.model.hf.SafetensorsTestFiles.f32;
import static io.r1kit.model.hf.SafetensorsTestFiles.write;
import static io.r1kit.model.hf.SafetensorsTestFiles.writeRaw;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on hand-built files: valid ones in every float dtype, and each kind of corruption. */
class SafetensorsReaderTest {

    @TempDir
    Path tmp;

    private static final String TWO_TENSORS = "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]}}";

    private static byte[] twoTensorData() {
        return f32(1, 2, 3, 4, -5, 6.5f, 7);
    }

    /** Opens a file expected to be rejected and checks the message names the file and the given words. */
    private static CheckpointException rejected(Path file, String... mustMention) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsReader.open(file).close());
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), () -> "message should name the file: " + msg);
        for (String s : mustMention) assertTrue(msg.contains(s), () -> "message should mention '" + s + "': " + msg);
        return e;
    }

    @Test
    void readsValidFileWithMetadata() throws IOException {
        Path f = write(tmp.resolve("ok.safetensors"), TWO_TENSORS, twoTensorData());
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(List.of("a", "b"), List.copyOf(r.tensors().keySet()));
            assertEquals(Map.of("format", "pt"), r.metadata());
            assertArrayEquals(new int[] {2, 2}, r.info("a").shape());
            assertArrayEquals(new float[] {1, 2, 3, 4}, r.loadFloats("a"));
            assertArrayEquals(new float[] {-5, 6.5f, 7}, r.loadFloats("b"));
            float[] dst = new float[5];
            r.loadFloatsInto("b", dst, 2);
            assertArrayEquals(new float[] {0, 0, -5, 6.5f, 7}, dst);
            CheckpointException e = assertThrows(CheckpointException.class, () -> r.loadFloats("missing"));
            assertTrue(e.getMessage().contains("missing") && e.getMessage().contains(f.toString()));
        }
    }

    @Test
    void widensBf16F16AndF64() throws IOException {
        // bf16 0x3FC0 = 1.5, 0xC020 = -2.5; f16 0x3C00 = 1, 0xC500 = -5; f64 0.1 rounds to float 0.1f.
        byte[] bf16 = {(byte) 0xC0, 0x3F, 0x20, (byte) 0xC0};
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC5};
        byte[] f64 = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putDouble(0.1).array();
        byte[] i64 = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(-3).putLong(1L << 40).array();
        byte[] bool = {1, 0, 1};
        String h = "{\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"y\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                + "\"z\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[8,16]},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},"
                + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[32,35]},"
                + "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[35,35]}}";
        Path f = write(tmp.resolve("dtypes.safetensors"), h, concat(bf16, f16, f64, i64, bool));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertArrayEquals(new float[] {1.5f, -2.5f}, r.loadFloats("x"));
            assertArrayEquals(new float[] {1f, -5f}, r.loadFloats("y"));
            assertArrayEquals(new float[] {0.1f}, r.loadFloats("z"));
            assertArrayEquals(new long[] {-3, 1L << 40}, r.loadLongs("ids"));
            assertArrayEquals(new long[] {1, 0, 1}, r.loadLongs("mask"));
            assertEquals(0, r.loadFloats("empty").length);
            CheckpointException e = assertThrows(CheckpointException.class, () -> r.loadFloats("ids"));
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("I64") && e.getMessage().contains(f.toString()),
                    e.getMessage());
        }
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] data = twoTensorData();
        Path f = write(tmp.resolve("trunc.safetensors"), TWO_TENSORS, Arrays.copyOf(data, data.length - 3));
        rejected(f, "'b'", "outside the data section");
    }

    @Test
    void rejectsFileShorterThanLengthField() throws IOException {
        Path f = tmp.resolve("tiny.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        rejected(f, "too small");
    }

    @Test
    void rejectsHeaderLengthPastEndOfFile() throws IOException {
        byte[] h = "{}      ".getBytes(StandardCharsets.UTF_8);
        Path f = writeRaw(tmp.resolve("past.safetensors"), 4096, h, new byte[0]);
        rejected(f, "past the end");
    }

    @Test
    void rejectsHugeHeaderLength() throws IOException {
        byte[] h = "{}      ".getBytes(StandardCharsets.UTF_8);
        rejected(writeRaw(tmp.resolve("huge.safetensors"), 1L << 40, h, new byte[0]), "exceeds the limit");
        // A length field with the top bit set (negative as a signed long) must not wrap around.
        rejected(writeRaw(tmp.resolve("neg.safetensors"), -8, h, new byte[0]), "exceeds the limit");
    }

    @Test
    void rejectsNonJsonHeader() throws IOException {
        rejected(write(tmp.resolve("nojson.safetensors"), "{\"a\": [1, 2,,]}", new byte[0]), "not valid JSON");
        rejected(write(tmp.resolve("binary.safetensors"), "\u0000\u0001garbage", new byte[0]), "does not start with '{'");
        rejected(write(tmp.resolve("array.safetensors"), "{\"a\": 1} {\"b\": 2}", new byte[0]), "not valid JSON");
        // Deep nesting is stopped by Jackson's depth limit, not by a StackOverflowError.
        String deep = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        rejected(write(tmp.resolve("deep.safetensors"), deep, new byte[0]), "not valid JSON");
    }

    @Test
    void rejectsDuplicateNames() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
        rejected(write(tmp.resolve("dup.safetensors"), h, f32(1, 2)), "duplicate", "'w'");
    }

    @Test
    void rejectsBadDtype() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        rejected(write(tmp.resolve("dtype.safetensors"), h, f32(1)), "'w'", "unknown dtype 'F33'");
        String h2 = "{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}";
        rejected(write(tmp.resolve("dtype2.safetensors"), h2, f32(1)), "'w'", "dtype");
    }

    @Test
    void rejectsShapeSizeMismatch() throws IOException {
        String h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}";
        rejected(write(tmp.resolve("mismatch.safetensors"), h, new byte[20]), "'w'", "needs 24 bytes");
    }

    @Test
    void rejectsNegativeAndOverflowingDims() throws IOException {
        String neg = "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1,4],\"data_offsets\":[0,16]}}";
        rejected(write(tmp.resolve("neg.safetensors"), neg, new byte[16]), "'w'", "shape dimension 0");
        String ovf = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,16]}}";
        rejected(write(tmp.resolve("ovf.safetensors"), ovf, new byte[16]), "'w'", "overflows");
        String big = "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999],\"data_offsets\":[0,16]}}";
        rejected(write(tmp.resolve("big.safetensors"), big, new byte[16]), "'w'", "shape dimension 0");
        String frac = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}";
        rejected(write(tmp.resolve("frac.safetensors"), frac, new byte[4]), "'w'", "shape dimension 0");
        String negOff = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}";
        rejected(write(tmp.resolve("negoff.safetensors"), negOff, new byte[4]), "'w'", "data_offsets[0]");
    }

    @Test
    void rejectsOverlappingRanges() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        rejected(write(tmp.resolve("overlap.safetensors"), h, new byte[12]), "'b'", "overlaps tensor 'a'");
    }

    @Test
    void rejectsGapsAndTrailingBytes() throws IOException {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        rejected(write(tmp.resolve("gap.safetensors"), gap, new byte[12]), "'b'", "gaps");
        String one = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        rejected(write(tmp.resolve("trailing.safetensors"), one, new byte[12]), "'a'", "trailing data");
    }

    @Test
    void rejectsBadEntryStructure() throws IOException {
        rejected(write(tmp.resolve("e1.safetensors"), "{\"w\":[1,2]}", new byte[0]), "'w'", "must be an object");
        rejected(write(tmp.resolve("e2.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "'w'", "data_offsets");
        rejected(write(tmp.resolve("e3.safetensors"), "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", new byte[4]),
                "'w'", "data_offsets");
        rejected(write(tmp.resolve("e4.safetensors"), "{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__.k");
    }

    @Test
    void randomCorruptionNeverEscapesAsAnotherException() throws IOException {
        // Flip bytes of a valid file anywhere (length field, header, data): opening and loading must
        // either succeed or raise CheckpointException, never IndexOutOfBounds or similar.
        Path good = write(tmp.resolve("good.safetensors"), TWO_TENSORS, twoTensorData());
        byte[] bytes = Files.readAllBytes(good);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
        for (int trial = 0; trial < 400; trial++) {
            byte[] b = bytes.clone();
            int flips = 1 + rnd.nextInt(3);
            for (int k = 0; k < flips; k++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            if (rnd.nextInt(4) == 0) b = Arrays.copyOf(b, rnd.nextInt(b.length));
            Path f = tmp.resolve("fuzz" + trial + ".safetensors");
            Files.write(f, b);
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                for (String n : r.tensors().keySet()) {
                    TensorInfo t = r.info(n);
                    if (t.dtype().isFloatLoadable()) r.loadFloats(n);
                    else if (t.dtype().isIntegerLoadable()) r.loadLongs(n);
                }
            } catch (CheckpointException expected) {
                assertTrue(expected.getMessage().contains(f.toString()));
            }
        }
    }
}
