package io.r1kit.model.fuzz;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The harness behind every fuzz target: mutates a seed input, hands it to a parser and checks the
 * contract every parser of untrusted input keeps — it accepts the input, or it throws its documented
 * exception type with a message naming the file (or the source it was given); nothing else comes
 * out, it finishes within {@link #TIME_LIMIT_MS}, and it allocates at most what the input's size
 * implies ({@link #allocationLimit}).
 *
 * <p>A failing input is written to {@code target/fuzz-failures/<target>/<hash>} so it can be added
 * to the target's committed seed corpus ({@code src/test/resources/fuzz/<target>/}).
 */
public final class Fuzz {
    private Fuzz() {}

    /**
     * Per-input time bound. Parsers of a few-KiB input finish in milliseconds and validating a run
     * config in well under a second; the bound is generous because a loaded 2-core machine can be
     * 30x slower, and it only has to tell a hang from a slow run.
     */
    public static final long TIME_LIMIT_MS = 60_000;

    /**
     * How many mutated inputs a target tries: {@code suiteDefault} in the suite (a few hundred for
     * parsers, fewer for targets that validate a whole run), {@code -Dr1kit.fuzz.tries} from {@code scripts/fuzz}.
     */
    public static int tries(int suiteDefault) {
        return Integer.getInteger("r1kit.fuzz.tries", suiteDefault);
    }

    /** Seed of the mutation stream: fixed in the suite, varied by {@code scripts/fuzz}. */
    public static long seed() {
        return Long.getLong("r1kit.fuzz.seed", 20261207L);
    }

    /** A parse of one input; returns normally on acceptance. */
    @FunctionalInterface
    public interface Parse {
        void run(byte[] input) throws Exception;
    }

    /** The bytes a parse may allocate: a generous multiple of the input plus a fixed allowance for tables and buffers. */
    public static long allocationLimit(int inputLength) {
        return 64L * inputLength + (64L << 20);
    }

    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fuzz-target");
        t.setDaemon(true);
        return t;
    });

    /**
     * Runs {@code parse} on {@code input}; fails the test when the contract above is broken.
     *
     * @param target     the target's name (folder of its corpus and failures)
     * @param documented the exception types the parser documents
     * @param mustName   text every error message must contain (the file name it was given); several
     *                   alternatives may be given separated by {@code |}
     * @return true when the input was accepted, false when it was refused cleanly
     */
    public static boolean check(String target, byte[] input, List<Class<? extends Throwable>> documented,
                                String mustName, Parse parse) {
        return check(target, input, documented, mustName, allocationLimit(input.length), parse);
    }

    /** As {@link #check(String, byte[], List, String, Parse)} with an explicit allocation limit in bytes. */
    public static boolean check(String target, byte[] input, List<Class<? extends Throwable>> documented,
                                String mustName, long allocationLimit, Parse parse) {
        Future<long[]> f = POOL.submit(() -> {
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            long before = mx.getThreadAllocatedBytes(tid);
            try {
                parse.run(input);
                return new long[] {1, mx.getThreadAllocatedBytes(tid) - before};
            } catch (Throwable t) {
                long used = mx.getThreadAllocatedBytes(tid) - before;
                boolean ok = documented.stream().anyMatch(c -> c.isInstance(t));
                if (!ok) throw new Broken("undocumented " + t.getClass().getName() + ": " + t.getMessage(), t);
                String msg = String.valueOf(t.getMessage());
                boolean named = Arrays.stream(mustName.split("\\|")).anyMatch(msg::contains);
                if (!named) throw new Broken("message does not name '" + mustName + "': " + msg, t);
                return new long[] {0, used};
            }
        });
        long[] r;
        try {
            r = f.get(TIME_LIMIT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw failure(target, input, "did not finish within " + TIME_LIMIT_MS + " ms", null);
        } catch (ExecutionException e) {
            throw failure(target, input, e.getCause().getMessage(), e.getCause().getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (r[1] > allocationLimit) {
            throw failure(target, input, "allocated " + r[1] + " bytes for an input of " + input.length, null);
        }
        return r[0] == 1;
    }

    private static final class Broken extends RuntimeException {
        Broken(String m, Throwable cause) { super(m, cause); }
    }

    private static AssertionError failure(String target, byte[] input, String what, Throwable cause) {
        String name = HexFormat.of().formatHex(sha(input)).substring(0, 16);
        Path out = Path.of("target", "fuzz-failures", target, name);
        try {
            Files.createDirectories(out.getParent());
            Files.write(out, input);
        } catch (IOException e) {
            // the assertion below still reports the input's hash
        }
        AssertionError err = new AssertionError(target + ": input " + name + " (saved to " + out.toAbsolutePath() + "): " + what);
        if (cause != null) err.initCause(cause);
        return err;
    }

    private static byte[] sha(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ mutations

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final String[] EXTREMES = {"0", "-1", "1e309", "-1e309", "NaN", "2147483648", "-2147483649",
            "1099511627776", "9223372036854775807", "18446744073709551616", "0.5", "\"7\"", "null", "[]", "{}", "true"};
    private static final String[] TOKENS = {"{", "}", "[", "]", "\"", ":", ",", "\n", "- ", "  ", "\\", "\\u0000",
            "${", "!!", "&a", "*a", "<<: ", "---", "#", "'", "\t", "\u00e9", "\ud83d\ude00"};

    /** One input derived from {@code seed}: 1–4 byte- or text-level edits chosen by {@code rnd}. */
    public static byte[] mutate(byte[] seed, Random rnd) {
        byte[] b = seed.clone();
        int edits = 1 + rnd.nextInt(4);
        for (int e = 0; e < edits; e++) {
            b = switch (rnd.nextInt(9)) {
                case 0 -> flipBit(b, rnd);
                case 1 -> setByte(b, rnd);
                case 2 -> delete(b, rnd);
                case 3 -> truncate(b, rnd);
                case 4 -> duplicate(b, rnd);
                case 5 -> insertToken(b, rnd);
                case 6, 7 -> replaceNumber(b, rnd);
                default -> duplicateLine(b, rnd);
            };
        }
        return b;
    }

    private static byte[] flipBit(byte[] b, Random rnd) {
        if (b.length == 0) return b;
        byte[] c = b.clone();
        int i = rnd.nextInt(c.length);
        c[i] ^= (byte) (1 << rnd.nextInt(8));
        return c;
    }

    private static byte[] setByte(byte[] b, Random rnd) {
        if (b.length == 0) return b;
        byte[] c = b.clone();
        int[] interesting = {0, 0x7f, 0x80, 0xff, '"', '{', '}', ':', ',', '\n', '.', '-', '9'};
        c[rnd.nextInt(c.length)] = (byte) interesting[rnd.nextInt(interesting.length)];
        return c;
    }

    private static byte[] delete(byte[] b, Random rnd) {
        if (b.length < 2) return b;
        int from = rnd.nextInt(b.length), len = 1 + rnd.nextInt(Math.min(16, b.length - from));
        return splice(b, from, len, new byte[0]);
    }

    private static byte[] truncate(byte[] b, Random rnd) {
        return b.length == 0 ? b : Arrays.copyOf(b, rnd.nextInt(b.length));
    }

    private static byte[] duplicate(byte[] b, Random rnd) {
        if (b.length == 0) return b;
        int from = rnd.nextInt(b.length), len = 1 + rnd.nextInt(Math.min(64, b.length - from));
        byte[] chunk = Arrays.copyOfRange(b, from, from + len);
        return splice(b, rnd.nextInt(b.length + 1), 0, chunk);
    }

    private static byte[] insertToken(byte[] b, Random rnd) {
        byte[] t = TOKENS[rnd.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
        return splice(b, rnd.nextInt(b.length + 1), 0, t);
    }

    private static byte[] replaceNumber(byte[] b, Random rnd) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        Matcher m = NUMBER.matcher(s);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) spans.add(new int[] {m.start(), m.end()});
        if (spans.isEmpty()) return insertToken(b, rnd);
        int[] sp = spans.get(rnd.nextInt(spans.size()));
        byte[] v = EXTREMES[rnd.nextInt(EXTREMES.length)].getBytes(StandardCharsets.ISO_8859_1);
        return splice(b, sp[0], sp[1] - sp[0], v);
    }

    private static byte[] duplicateLine(byte[] b, Random rnd) {
        String s = new String(b, StandardCharsets.UTF_8);
        String[] lines = s.split("\n", -1);
        if (lines.length < 2) return duplicate(b, rnd);
        int i = rnd.nextInt(lines.length);
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < lines.length; k++) {
            out.append(lines[k]);
            if (k == i) out.append('\n').append(lines[k]);
            if (k < lines.length - 1) out.append('\n');
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] c = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, c, 0, at);
        System.arraycopy(insert, 0, c, at, insert.length);
        System.arraycopy(b, at + remove, c, at + insert.length, b.length - at - remove);
        return c;
    }

    /** Seeds of a target: its committed corpus files, in name order (crashes found earlier are kept there). */
    public static List<byte[]> corpus(String target) throws IOException {
        Path dir = Path.of("src", "test", "resources", "fuzz", target);
        if (!Files.isDirectory(dir)) return List.of();
        try (var s = Files.list(dir)) {
            List<Path> files = s.filter(Files::isRegularFile).sorted().toList();
            List<byte[]> out = new ArrayList<>();
            for (Path p : files) out.add(Files.readAllBytes(p));
            return out;
        }
    }

    /** Totals of one target's run, printed so scripts/fuzz can report inputs tried and time. */
    public static void report(String target, int tried, int accepted, long nanos) {
        System.out.printf("fuzz %s: %d inputs (%d accepted, %d refused cleanly) in %.1f s%n",
                target, tried, accepted, tried - accepted, nanos / 1e9);
    }
}
