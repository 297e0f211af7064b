package io.r1kit.rewards.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reward computed by a user program in any language, run once per batch.
 *
 * <p>Protocol (JSON lines, UTF-8): r1kit writes one object per completion to the program's stdin
 * and closes it:
 * <pre>{"index": 0, "id": "...", "prompt": "...", "completion": "...", "token_ids": [..],
 *  "finish_reason": "stop", "columns": {"answer": "42", ...}}</pre>
 * The program writes exactly one line per completion to stdout, in the same order: a number,
 * {@code null} (does not apply), or an object {@code {"reward": number|null}}. Blank lines are
 * ignored; stderr goes to r1kit's log. A non-zero exit, a wrong line count or an unreadable line
 * fails the batch; running past {@code timeout} seconds kills the program. Either way the
 * composite gives null for the batch and counts the error.
 *
 * <p>Params: {@code command} (list of program and arguments, or one string split on spaces;
 * required), {@code timeout} (60 s), {@code workdir} (default: a fresh empty directory per batch,
 * deleted afterwards), {@code env} (map of extra environment variables), {@code inherit_env} (names
 * of r1kit's environment variables passed through besides {@link #ALLOWED_ENV}), {@code
 * memory_limit_mb} (address-space limit of the program, 8192; 0 = none), {@code name} (label for
 * logs; default "command").
 *
 * <p>Boundaries: a reward program is user code that sees model output, so it gets only what it
 * needs. Its environment is cleared down to an allow-list (API keys and tokens in r1kit's own
 * environment do not leak into it); it runs in its own working directory, so arguments naming
 * existing files relative to r1kit's directory are made absolute first; on Linux its address
 * space is limited with {@code ulimit -v} (elsewhere no memory limit is applied).
 */
public final class CommandReward implements RewardFunction {

    private static final Logger LOG = LoggerFactory.getLogger(CommandReward.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> command;
    private final long timeoutMillis;
    private final File workdir;
    private final Map<String, Object> env;
    private final Set<String> inheritEnv;
    private final long memoryLimitMb;
    private final String name;

    /** Variables passed from r1kit's environment to every reward program: locale, paths, interpreters' homes. */
    public static final Set<String> ALLOWED_ENV = Set.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE",
            "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TERM", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
            "CONDA_PREFIX", "JAVA_HOME", "LD_LIBRARY_PATH", "SYSTEMROOT");

    public CommandReward(RewardParams p) {
        p.requireOnly("command", "timeout", "workdir", "env", "inherit_env", "memory_limit_mb", "name");
        if (!p.has("command")) throw p.bad("command", "set: the program to run, e.g. [python3, my_reward.py]", "nothing");
        Object raw = p.values().get("command");
        command = raw instanceof List ? p.getStringList("command", List.of()) : List.of(raw.toString().trim().split("\\s+"));
        if (command.isEmpty() || command.get(0).isBlank()) throw p.bad("command", "a non-empty program", raw);
        double t = p.getDouble("timeout", 60);
        if (!(t > 0)) throw p.bad("timeout", "> 0 seconds", t);
        timeoutMillis = (long) (t * 1000);
        workdir = p.has("workdir") ? new File(p.getString("workdir", ".")) : null;
        if (workdir != null && !workdir.isDirectory()) throw new RewardConfigException("reward 'command': workdir " + workdir + " is not a directory");
        env = p.getMap("env");
        inheritEnv = new LinkedHashSet<>(p.getStringList("inherit_env", List.of()));
        double mem = p.getDouble("memory_limit_mb", 8192);
        if (!(mem >= 0)) throw p.bad("memory_limit_mb", ">= 0 (0 = no limit)", mem);
        memoryLimitMb = (long) mem;
        name = p.getString("name", "command");
    }

    /** The program's environment: the allow-listed part of {@code parent}, then {@code extra}. */
    static Map<String, String> childEnvironment(Map<String, String> parent, Set<String> inherit, Map<String, Object> extra) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : parent.entrySet()) {
            if (ALLOWED_ENV.contains(e.getKey()) || inherit.contains(e.getKey())) out.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Object> e : extra.entrySet()) out.put(e.getKey(), String.valueOf(e.getValue()));
        return out;
    }

    /** Arguments naming an existing file or directory relative to r1kit's directory, made absolute. */
    static List<String> absolutePaths(List<String> command) {
        List<String> out = new ArrayList<>();
        for (String a : command) {
            File f = new File(a);
            out.add(!a.isEmpty() && !f.isAbsolute() && a.indexOf('/') >= 0 && f.exists() ? f.getAbsolutePath() : a);
        }
        return out;
    }

    /** The command line actually started: under {@code ulimit -v} on Linux when a memory limit is set. */
    List<String> launchLine() {
        List<String> cmd = absolutePaths(command);
        boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
        if (memoryLimitMb == 0 || !linux || !new File("/bin/sh").canExecute()) return cmd;
        List<String> wrapped = new ArrayList<>(List.of("/bin/sh", "-c", "ulimit -v " + memoryLimitMb * 1024 + " && exec \"$@\"", "r1kit-reward"));
        wrapped.addAll(cmd);
        return wrapped;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Double> score(List<Completion> batch) throws Exception {
        if (batch.isEmpty()) return List.of();
        Path scratch = workdir == null ? Files.createTempDirectory("r1kit-reward-") : null;
        try {
            return run(batch, scratch != null ? scratch.toFile() : workdir);
        } finally {
            if (scratch != null) deleteTree(scratch);
        }
    }

    private List<Double> run(List<Completion> batch, File dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(launchLine());
        pb.directory(dir);
        Map<String, String> childEnv = childEnvironment(System.getenv(), inheritEnv, env);
        pb.environment().clear();
        pb.environment().putAll(childEnv);
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            throw new IOException("reward '" + name + "': cannot start " + command + ": " + e.getMessage(), e);
        }
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        StringBuilder errTail = new StringBuilder();
        Thread writer = Thread.ofVirtual().start(() -> {
            try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(proc.getOutputStream(), StandardCharsets.UTF_8))) {
                for (int i = 0; i < batch.size(); i++) {
                    w.write(JSON.writeValueAsString(request(i, batch.get(i))));
                    w.write('\n');
                }
            } catch (IOException e) {
                // the program may exit without reading everything; its exit code tells
            }
        });
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) if (!line.isBlank()) lines.add(line);
            } catch (IOException ignored) {
                // process killed
            }
        });
        Thread errs = Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    LOG.info("[{} stderr] {}", name, line);
                    synchronized (errTail) {
                        if (errTail.length() < 2000) errTail.append(line).append('\n');
                    }
                }
            } catch (IOException ignored) {
                // process killed
            }
        });
        boolean done;
        try {
            done = proc.waitFor(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            kill(proc);
            throw e;
        }
        if (!done) {
            kill(proc);
            throw new TimeoutException("reward '" + name + "': " + command + " did not finish within " + timeoutMillis / 1000.0 + " s");
        }
        reader.join(5000);
        writer.join(5000);
        errs.join(5000);
        if (proc.exitValue() != 0) {
            throw new IOException("reward '" + name + "': " + command + " exited with code " + proc.exitValue()
                    + (errTail.isEmpty() ? "" : "; stderr:\n" + errTail));
        }
        if (lines.size() != batch.size()) {
            throw new IOException("reward '" + name + "': " + command + " printed " + lines.size() + " lines for "
                    + batch.size() + " completions (one per completion expected)");
        }
        return parseReplies(name, lines, batch.size());
    }

    /**
     * The scores in a reward program's non-blank output lines, one per completion; an IOException
     * naming the reward and the line for anything else.
     */
    public static List<Double> parseReplies(String name, List<String> lines, int expected) throws IOException {
        if (lines.size() != expected) {
            throw new IOException("reward '" + name + "': " + lines.size() + " output lines for " + expected + " completions");
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) out.add(parseLine(name, lines.get(i), i));
        return out;
    }

    private static Double parseLine(String name, String line, int i) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            throw new IOException("reward '" + name + "': output line " + (i + 1) + " is not JSON: " + abbreviate(line));
        }
        if (n.isObject()) n = n.get("reward");
        if (n == null || n.isNull()) return null;
        if (n.isNumber()) {
            double v = n.doubleValue();
            if (!Double.isFinite(v)) {
                throw new IOException("reward '" + name + "': output line " + (i + 1) + " is not a finite number: " + abbreviate(line));
            }
            return v;
        }
        throw new IOException("reward '" + name + "': output line " + (i + 1) + " must be a number, null or {\"reward\": ...}, got "
                + abbreviate(line));
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static ObjectNode request(int i, Completion c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("index", i);
        o.put("id", c.exampleId());
        o.put("prompt", c.prompt());
        o.put("completion", c.text());
        ArrayNode ids = o.putArray("token_ids");
        for (int t : c.tokenIds()) ids.add(t);
        if (c.finishReason() == null) o.putNull("finish_reason");
        else o.put("finish_reason", c.finishReason());
        o.set("columns", JSON.valueToTree(c.columns()));
        return o;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(q -> q.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete the reward's working directory {}: {}", root, e.getMessage());
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "command"; }
        public String description() { return "a user program scores the batch over JSON lines on stdin/stdout"; }
        public RewardFunction create(RewardParams p) { return new CommandReward(p); }
    }
}
