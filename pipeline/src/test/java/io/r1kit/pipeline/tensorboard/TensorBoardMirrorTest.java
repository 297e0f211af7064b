package io.r1kit.pipeline.tensorboard;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The TensorBoard event files read back by a reader written here from the formats' definitions,
 * sharing no code with the writer: TFRecord framing checked with a bitwise CRC32C (Castagnoli,
 * reflected polynomial 0x82F63B78, checked against its standard check value), and a generic
 * protobuf wire-format decoder for the Event, Summary and Value fields.
 */
class TensorBoardMirrorTest {

    // ---------------------------------------------------------------- independent reader

    static int crc32c(byte[] b, int off, int len) {
        int crc = 0xFFFFFFFF;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
        }
        return ~crc;
    }

    static int mask(int crc) {
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    /** The records of a TFRecord file, each checked: length CRC and data CRC. */
    static List<byte[]> records(Path f) throws Exception {
        byte[] b = Files.readAllBytes(f);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> out = new ArrayList<>();
        while (bb.remaining() > 0) {
            int start = bb.position();
            long len = bb.getLong();
            assertEquals(mask(crc32c(b, start, 8)), bb.getInt(), "masked CRC32C of the length at byte " + start);
            byte[] data = new byte[(int) len];
            bb.get(data);
            assertEquals(mask(crc32c(data, 0, data.length)), bb.getInt(), "masked CRC32C of the data at byte " + start);
            out.add(data);
        }
        return out;
    }

    /** A protobuf message's fields: number to the list of values (Long for varints and fixed, byte[] for length-delimited). */
    static Map<Integer, List<Object>> fields(byte[] m) {
        Map<Integer, List<Object>> out = new LinkedHashMap<>();
        int[] pos = {0};
        while (pos[0] < m.length) {
            long key = varint(m, pos);
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            Object v = switch (wire) {
                case 0 -> varint(m, pos);
                case 1 -> { long x = ByteBuffer.wrap(m, pos[0], 8).order(ByteOrder.LITTLE_ENDIAN).getLong(); pos[0] += 8; yield x; }
                case 5 -> { long x = ByteBuffer.wrap(m, pos[0], 4).order(ByteOrder.LITTLE_ENDIAN).getInt(); pos[0] += 4; yield x; }
                case 2 -> {
                    int n = (int) varint(m, pos);
                    byte[] x = Arrays.copyOfRange(m, pos[0], pos[0] + n);
                    pos[0] += n;
                    yield x;
                }
                default -> throw new AssertionError("wire type " + wire);
            };
            out.computeIfAbsent(field, k -> new ArrayList<>()).add(v);
        }
        return out;
    }

    static long varint(byte[] m, int[] pos) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = m[pos[0]++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
    }

    /** One decoded event: wall time, step, file version (null if none) and scalars by tag. */
    record Event(double wallTime, long step, String fileVersion, Map<String, Float> scalars) {}

    static List<Event> events(Path f) throws Exception {
        List<Event> out = new ArrayList<>();
        for (byte[] r : records(f)) {
            Map<Integer, List<Object>> e = fields(r);
            double wall = Double.longBitsToDouble((Long) e.get(1).get(0));
            long step = e.containsKey(2) ? (Long) e.get(2).get(0) : 0;
            String version = e.containsKey(3) ? new String((byte[]) e.get(3).get(0), StandardCharsets.UTF_8) : null;
            Map<String, Float> scalars = new LinkedHashMap<>();
            if (e.containsKey(5)) {
                for (Object v : fields((byte[]) e.get(5).get(0)).getOrDefault(1, List.of())) {
                    Map<Integer, List<Object>> value = fields((byte[]) v);
                    scalars.put(new String((byte[]) value.get(1).get(0), StandardCharsets.UTF_8),
                            Float.intBitsToFloat((int) (long) (Long) value.get(2).get(0)));
                }
            }
            out.add(new Event(wall, step, version, scalars));
        }
        return out;
    }

    static List<Path> eventFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")).sorted().toList();
        }
    }

    // ---------------------------------------------------------------- tests

    @Test
    void theReferenceCrcHasTheStandardCheckValue() {
        byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xE3069283, crc32c(b, 0, b.length));
    }

    @Test
    void eachStageGetsAnEventFileWithEveryNumericMetricAtItsStepAndWallTime(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve("metrics.jsonl"), """
                {"stage":"pretrain","step":2,"loss":4.03,"learning_rate":1.5E-5,"wall_time":1700000000.25}
                {"stage":"pretrain","step":4,"loss":3.5,"learning_rate":5.0E-6,"wall_time":1700000001.5}
                {"step":1,"stage":"r1_zero","reward":0.5,"rewards/accuracy/mean":0.25,"kl":null,"note":"text","wall_time":1700000100.0}
                {"step":2,"stage":"r1_zero","eval/accuracy":0.75,"wall_time":1700000101.0}
                """);
        Path tb = TensorBoardMirror.writeOnce(run);
        List<Path> files = eventFiles(tb);
        assertEquals(2, files.size(), files.toString());
        assertEquals("pretrain", files.get(0).getParent().getFileName().toString());
        assertEquals("r1_zero", files.get(1).getParent().getFileName().toString());

        List<Event> pre = events(files.get(0));
        assertEquals("brain.Event:2", pre.get(0).fileVersion(), "the version event comes first");
        assertEquals(3, pre.size());
        assertEquals(2, pre.get(1).step());
        assertEquals(1700000000.25, pre.get(1).wallTime());
        assertEquals(Map.of("loss", 4.03f, "learning_rate", 1.5e-5f), pre.get(1).scalars());
        assertEquals(4, pre.get(2).step());
        assertEquals(3.5f, pre.get(2).scalars().get("loss"));

        List<Event> rl = events(files.get(1));
        assertEquals(Map.of("reward", 0.5f, "rewards/accuracy/mean", 0.25f), rl.get(1).scalars(), "nulls and text are not scalars");
        assertEquals(Map.of("eval/accuracy", 0.75f), rl.get(2).scalars());
        assertEquals(2, rl.get(2).step());
    }

    @Test
    void followsAppendedLinesAndStartsOverWhenAResumedRunRewritesTheMetrics(@TempDir Path run) throws Exception {
        Path metrics = run.resolve("metrics.jsonl");
        Files.writeString(metrics, "{\"stage\":\"g\",\"step\":1,\"reward\":0.1,\"wall_time\":10.0}\n");
        try (TensorBoardMirror m = TensorBoardMirror.follow(run)) {
            m.sync();
            Files.writeString(metrics, "{\"stage\":\"g\",\"step\":2,\"reward\":0.2,\"wall_time\":11.0}\n{\"stage\":\"g\",\"st",
                    StandardOpenOption.APPEND);
            m.sync();
            List<Event> ev = events(eventFiles(run.resolve("tensorboard")).get(0));
            assertEquals(List.of(0L, 1L, 2L), ev.stream().map(Event::step).toList(), "the torn line waits");
            // resumed from a checkpoint at step 1: step 2 is dropped and run again
            Path tmp = run.resolve("metrics.jsonl.tmp");
            Files.writeString(tmp, "{\"stage\":\"g\",\"step\":1,\"reward\":0.1,\"wall_time\":10.0}\n");
            Files.move(tmp, metrics, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            m.sync();
            Files.writeString(metrics, "{\"stage\":\"g\",\"step\":2,\"reward\":0.9,\"wall_time\":20.0}\n", StandardOpenOption.APPEND);
        }
        List<Path> files = eventFiles(run.resolve("tensorboard"));
        assertEquals(1, files.size(), "the old file is replaced, not kept beside: " + files);
        List<Event> ev = events(files.get(0));
        assertEquals(List.of(0L, 1L, 2L), ev.stream().map(Event::step).toList());
        assertEquals(0.9f, ev.get(2).scalars().get("reward"), "step 2 as run again; the line appended last is in (close syncs)");
    }

    @Test
    void aCorruptedRecordFailsTheReader(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve("metrics.jsonl"), "{\"stage\":\"g\",\"step\":1,\"reward\":0.1,\"wall_time\":10.0}\n");
        Path f = eventFiles(TensorBoardMirror.writeOnce(run)).get(0);
        byte[] b = Files.readAllBytes(f);
        b[b.length - 6] ^= 1;   // a bit of the last record's data
        Files.write(f, b);
        assertThrows(AssertionError.class, () -> records(f), "the reader checks what it reads");
    }
}
