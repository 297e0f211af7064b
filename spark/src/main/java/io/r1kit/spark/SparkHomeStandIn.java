package io.r1kit.spark;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code SPARK_HOME} a {@code local-cluster[...]} master needs, generated from this JVM's own
 * class path: {@code jars/} (links to every jar of the class path) and {@code RELEASE}. Its Worker
 * starts executor JVMs with {@code SPARK_HOME/jars/*} (and, in that testing mode, this JVM's class
 * path) and {@code SPARK_SCALA_VERSION}. Kept in a cache directory named by a hash of the class path,
 * so it is built once per build.
 */
final class SparkHomeStandIn {
    static final String SCALA_VERSION = "2.13";

    private SparkHomeStandIn() {}

    /** The cache directory: {@code R1KIT_CACHE}, else {@code ~/.cache/r1kit}. */
    static Path cacheRoot() {
        String env = System.getenv("R1KIT_CACHE");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "r1kit");
    }

    /** The stand-in home for {@code classPath} under {@code cache}, created when missing. */
    static Path prepare(Path cache, String classPath) throws IOException {
        List<Path> jars = java.util.Arrays.stream(classPath.split(File.pathSeparator))
                .filter(s -> s.endsWith(".jar")).map(s -> Path.of(s).toAbsolutePath()).filter(Files::isRegularFile).toList();
        Path home = cache.resolve("spark-home-" + hash(jars.toString()));
        if (Files.isRegularFile(home.resolve("RELEASE"))) return home;
        Files.createDirectories(cache);
        Path tmp = Files.createTempDirectory(cache, "spark-home-");
        Path dir = Files.createDirectories(tmp.resolve("jars"));
        Set<String> names = new HashSet<>();
        for (Path j : jars) {
            String n = j.getFileName().toString();
            if (!names.add(n)) n = names.size() + "-" + n;   // two jars of one name from different groups
            Files.createSymbolicLink(dir.resolve(n), j);
        }
        Files.writeString(tmp.resolve("RELEASE"), "r1kit stand-in SPARK_HOME for local-cluster masters (Scala " + SCALA_VERSION + ")\n",
                StandardCharsets.UTF_8);
        try {
            Files.move(tmp, home, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // another JVM made it first: use theirs
            if (!Files.isRegularFile(home.resolve("RELEASE"))) throw e;
        }
        return home;
    }

    private static String hash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
