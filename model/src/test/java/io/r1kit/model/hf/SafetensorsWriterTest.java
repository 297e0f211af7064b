package io.r1kit.model.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {

    @TempDir
    Path tmp;

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-6, 4)));
        return a;
    }

    @Test
    void f32RoundTripIsBitExact() throws IOException {
        float[] w = randomFloats(7 * 33, 1);
        w[0] = -0.0f;
        w[1] = Float.MIN_VALUE;
        w[2] = Float.NaN;
        w[3] = Float.intBitsToFloat(0x7FC0_1234); // NaN payload must survive too
        float[] b = randomFloats(33, 2);
        Path f = tmp.resolve("m.safetensors");
        SafetensorsWriter.write(f, List.of(new NamedTensor("w", new int[] {7, 33}, w), new NamedTensor("b", new int[] {33}, b)),
                DType.F32, Map.of("format", "pt"));
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            float[] w2 = r.loadFloats("w");
            for (int i = 0; i < w.length; i++) {
                assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(w2[i]), "element " + i);
            }
            assertArrayEquals(b, r.loadFloats("b"));
            assertEquals(Map.of("format", "pt"), r.metadata());
        }
    }

    @Test
    void bf16RoundTripEqualsRoundedValues() throws IOException {
        float[] w = randomFloats(129, 3);
        Path f = tmp.resolve("bf.safetensors");
        SafetensorsWriter.write(f, List.of(new NamedTensor("w", new int[] {129}, w)), DType.BF16, Map.of());
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            assertEquals(DType.BF16, r.info("w").dtype());
            float[] back = r.loadFloats("w");
            for (int i = 0; i < w.length; i++) assertEquals(FloatFormats.roundToBf16(w[i]), back[i], 0f, "element " + i);
        }
        // Saving the widened values again is lossless: bf16 -> f32 -> bf16 is the identity.
        Path g = tmp.resolve("bf2.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            SafetensorsWriter.write(g, List.of(new NamedTensor("w", new int[] {129}, r.loadFloats("w"))), DType.BF16, Map.of());
        }
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g));
    }

    @Test
    void layoutMatchesOfficialWriter() throws IOException {
        // Expected bytes for safetensors.torch.save_file({"b": zeros(1), "a": ones(2)}, metadata={"format":"pt"}):
        // tensors sorted by name, compact JSON with __metadata__ first, spaces to an 8-byte boundary.
        Path f = tmp.resolve("layout.safetensors");
        SafetensorsWriter.write(f, List.of(new NamedTensor("b", new int[] {1}, new float[] {0}),
                new NamedTensor("a", new int[] {2}, new float[] {1, 1})), DType.F32, Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        int padded = (json.length() + 7) / 8 * 8;
        assertEquals(padded, n);
        assertEquals(json + " ".repeat(padded - json.length()), new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        assertEquals(8 + n + 12, bytes.length);
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n, 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.getFloat());
        assertEquals(1f, data.getFloat());
        assertEquals(0f, data.getFloat());
    }

    @Test
    void rejectsDuplicateNamesAndShapeMismatch() {
        Path f = tmp.resolve("x.safetensors");
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(f,
                List.of(new NamedTensor("w", new int[] {1}, new float[1]), new NamedTensor("w", new int[] {1}, new float[1])),
                DType.F32, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new NamedTensor("w", new int[] {2, 2}, new float[3]));
    }
}
