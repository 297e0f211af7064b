package io.r1kit.pipeline.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Copies everything the run prints (stdout and stderr, logs included) into {@code run.log}. */
final class RunLog implements AutoCloseable {
    private final PrintStream oldOut = System.out, oldErr = System.err;
    private final OutputStream file;

    RunLog(Path log) throws IOException {
        Files.createDirectories(log.toAbsolutePath().getParent());
        file = new FileOutputStream(log.toFile(), true);
        System.setOut(new PrintStream(new Tee(oldOut, file), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new Tee(oldErr, file), true, StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        System.out.flush();
        System.err.flush();
        System.setOut(oldOut);
        System.setErr(oldErr);
        file.close();
    }

    private static final class Tee extends OutputStream {
        private final OutputStream a, b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public synchronized void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
