package io.r1kit.pipeline.dashboard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.nio.file.FileVisitOption;

/**
 * The runs and ablations under a directory. A run is a directory holding {@code config.yaml} or
 * {@code metrics.jsonl} (its subdirectories are not searched); an ablation is one holding
 * {@code ablation.yaml} or {@code ablation.json}, whose runs sit in {@code <variant>/seed-<s>/}.
 * Ids are paths relative to the root with '/' ("." for the root itself), and are the only way the
 * dashboard names a run: a request for anything else is refused.
 */
public final class RunsTree {
    /** How deep below the root runs are looked for (runs/ablations/NAME/VARIANT/seed-S is 4). */
    static final int MAX_DEPTH = 6;

    public record Run(String id, Path dir, String ablation, String variant, Long seed) {
        public String name() {
            return dir.getFileName() == null ? id : dir.getFileName().toString();
        }
    }

    public record AblationDir(String id, Path dir, List<String> runIds) {}

    private final Path root;
    private final List<Run> runs;
    private final List<AblationDir> ablations;

    private RunsTree(Path root, List<Run> runs, List<AblationDir> ablations) {
        this.root = root;
        this.runs = runs;
        this.ablations = ablations;
    }

    public Path root() { return root; }
    public List<Run> runs() { return runs; }
    public List<AblationDir> ablations() { return ablations; }

    public Optional<Run> run(String id) {
        return runs.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    public static boolean isRun(Path dir) {
        return Files.isRegularFile(dir.resolve("config.yaml")) || Files.isRegularFile(dir.resolve("metrics.jsonl"));
    }

    static boolean isAblation(Path dir) {
        return Files.isRegularFile(dir.resolve("ablation.yaml")) || Files.isRegularFile(dir.resolve("ablation.json"));
    }

    /** Scans {@code root} (cheap: run directories are not entered). */
    public static RunsTree scan(Path root) {
        Path r = root.toAbsolutePath().normalize();
        List<Path> runDirs = new ArrayList<>(), ablationDirs = new ArrayList<>();
        try {
            Files.walkFileTree(r, EnumSet.noneOf(FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (!dir.equals(r) && dir.getFileName().toString().startsWith(".")) return FileVisitResult.SKIP_SUBTREE;
                    if (isAblation(dir)) ablationDirs.add(dir);
                    if (isRun(dir)) {
                        runDirs.add(dir);
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;   // an unreadable corner does not hide the other runs
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + r, e);
        }
        runDirs.sort(Comparator.comparing(Path::toString));
        ablationDirs.sort(Comparator.comparing(Path::toString));
        List<Run> runs = new ArrayList<>();
        List<AblationDir> abls = new ArrayList<>();
        for (Path a : ablationDirs) abls.add(new AblationDir(id(r, a), a, new ArrayList<>()));
        for (Path d : runDirs) {
            AblationDir owner = null;
            for (AblationDir a : abls) if (d.startsWith(a.dir()) && !d.equals(a.dir())) owner = a;
            String variant = null;
            Long seed = null;
            if (owner != null) {
                Path rel = owner.dir().relativize(d);
                String last = rel.getFileName().toString();
                if (last.matches("seed-\\d+") && rel.getNameCount() >= 2) {
                    seed = Long.parseLong(last.substring(5));
                    variant = rel.getParent().toString().replace('\\', '/');
                } else {
                    variant = rel.toString().replace('\\', '/');
                }
                owner.runIds().add(id(r, d));
            }
            runs.add(new Run(id(r, d), d, owner == null ? null : owner.id(), variant, seed));
        }
        List<AblationDir> frozen = abls.stream().map(a -> new AblationDir(a.id(), a.dir(), List.copyOf(a.runIds()))).toList();
        return new RunsTree(r, List.copyOf(runs), frozen);
    }

    static String id(Path root, Path dir) {
        String rel = root.relativize(dir).toString().replace('\\', '/');
        return rel.isEmpty() ? "." : rel;
    }
}
