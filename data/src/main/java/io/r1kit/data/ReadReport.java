package io.r1kit.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What reading one file gave: records read, records skipped as invalid (with the reasons). */
public final class ReadReport {
    /** At most this many skip messages are kept; the count keeps going. */
    static final int MAX_KEPT_WARNINGS = 100;

    private final Path file;
    private long read;
    private long skipped;
    private final List<String> warnings = new ArrayList<>();

    public ReadReport(Path file) {
        this.file = file;
    }

    void countRead() { read++; }

    void countSkip(String warning) {
        skipped++;
        if (warnings.size() < MAX_KEPT_WARNINGS) warnings.add(warning);
    }

    public Path file() { return file; }
    /** Records accepted. */
    public long read() { return read; }
    /** Records skipped because they were invalid ({@code skip_invalid: true}). */
    public long skipped() { return skipped; }
    /** The first {@value #MAX_KEPT_WARNINGS} skip messages, each naming file and line. */
    public List<String> warnings() { return Collections.unmodifiableList(warnings); }

    @Override
    public String toString() {
        return file + ": " + read + " read, " + skipped + " skipped";
    }
}
