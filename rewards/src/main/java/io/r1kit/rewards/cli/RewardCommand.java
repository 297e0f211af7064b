package io.r1kit.rewards.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardBatchResult;
import io.r1kit.rewards.RewardConfig;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardProvider;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.RewardSpec;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code r1kit reward (--fn NAME[,NAME…] | --config FILE.yaml) --input IN.jsonl [--output OUT.jsonl]}:
 * scores the {@code completion} of each input line with the given rewards. Each output line is the
 * input object plus {@code "rewards": {name: value|null}} and {@code "reward"} (the weighted sum).
 */
@Command(name = "reward", mixinStandardHelpOptions = true,
        description = {"Score completions in a JSONL file with rule-based rewards.",
                "Each input line has 'completion' and any dataset columns (answer, nums, target, language, ...);",
                "optional 'prompt', 'token_ids', 'finish_reason', 'id'. Each output line is the input plus",
                "\"rewards\": {name: value|null} and \"reward\" (the weighted sum)."})
public final class RewardCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.Set<String> RESERVED = java.util.Set.of("completion", "prompt", "token_ids", "finish_reason", "id");

    @Spec
    CommandSpec spec;

    @Option(names = "--fn", split = ",", paramLabel = "NAME", description = "Reward names, weight 1 each (e.g. accuracy,format).")
    List<String> functions;

    @Option(names = "--config", paramLabel = "FILE.yaml", description = "YAML with a 'rewards:' list (name/class, weight, params).")
    Path config;

    @Option(names = "--input", paramLabel = "IN.jsonl", description = "Input JSONL ('-' for stdin).")
    String input;

    @Option(names = "--output", paramLabel = "OUT.jsonl", description = "Output JSONL (default: stdout).")
    Path output;

    @Option(names = "--classpath", split = "[:;]", paramLabel = "PATH", description = "Extra jars or class folders for 'class:' rewards.")
    List<Path> classpath = new ArrayList<>();

    @Option(names = "--plugins", paramLabel = "DIR", description = "Plugin directories of jars (default: ./plugins and <r1kit home>/plugins).")
    List<Path> plugins = new ArrayList<>();

    @Option(names = "--batch-size", defaultValue = "64", description = "Completions scored per call (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--list", description = "List the available reward names and exit.")
    boolean list;

    @Override
    public Integer call() {
        PrintWriter err = spec == null ? new PrintWriter(System.err, true) : spec.commandLine().getErr();
        PrintWriter out = spec == null ? new PrintWriter(System.out, true) : spec.commandLine().getOut();
        try {
            List<Path> dirs = new ArrayList<>(plugins);
            dirs.add(Path.of("plugins"));
            String home = System.getProperty("r1kit.home");
            if (home != null) dirs.add(Path.of(home, "plugins"));
            if (list) {
                RewardRegistry reg = RewardRegistry.withPlugins(dirs, classpath);
                for (Map.Entry<String, RewardProvider> e : reg.providers().entrySet()) {
                    out.printf("%-22s %s%n", e.getKey(), e.getValue().description());
                }
                out.flush();
                return 0;
            }
            if ((functions == null) == (config == null)) {
                err.println("reward: give exactly one of --fn NAME[,NAME...] or --config FILE.yaml");
                return 2;
            }
            if (input == null) {
                err.println("reward: --input IN.jsonl is required");
                return 2;
            }
            if (batchSize < 1) {
                err.println("reward: --batch-size must be >= 1");
                return 2;
            }
            CompositeReward composite;
            if (config != null) {
                if (!Files.isRegularFile(config)) {
                    err.println("reward: config file " + config + " not found");
                    return 2;
                }
                composite = CompositeReward.fromConfig(RewardConfig.load(config), dirs, classpath);
            } else {
                List<RewardSpec> specs = new ArrayList<>();
                for (String f : functions) if (!f.isBlank()) specs.add(RewardSpec.named(f.trim(), 1.0));
                composite = CompositeReward.fromSpecs(specs, RewardRegistry.withPlugins(dirs, classpath), CompositeReward.DEFAULT_TIMEOUT);
            }
            try (composite) {
                return run(composite, err, out);
            }
        } catch (RewardConfigException e) {
            err.println("reward: " + e.getMessage());
            return 2;
        } catch (IOException | IllegalArgumentException e) {
            err.println("reward: " + e.getMessage());
            return 1;
        }
    }

    private int run(CompositeReward composite, PrintWriter err, PrintWriter stdout) throws IOException {
        BufferedReader in = input.equals("-")
                ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
                : Files.newBufferedReader(Path.of(input), StandardCharsets.UTF_8);
        Writer w = output == null ? stdout : new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(output), StandardCharsets.UTF_8));
        Map<String, double[]> sums = new LinkedHashMap<>(); // name -> {sum, count, errors}
        int lines = 0;
        try (in) {
            List<ObjectNode> rows = new ArrayList<>();
            List<Completion> batch = new ArrayList<>();
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                ObjectNode row = parseRow(line, lineNo);
                rows.add(row);
                batch.add(toCompletion(row, lineNo));
                if (batch.size() == batchSize) {
                    lines += flush(composite, rows, batch, w, sums);
                }
            }
            if (!batch.isEmpty()) lines += flush(composite, rows, batch, w, sums);
        } finally {
            w.flush();
            if (output != null) w.close();
        }
        StringBuilder summary = new StringBuilder("reward: scored " + lines + " completions");
        for (Map.Entry<String, double[]> e : sums.entrySet()) {
            double[] s = e.getValue();
            summary.append(String.format("; %s mean %.4f (%d scored, %d errors)", e.getKey(), s[1] == 0 ? Double.NaN : s[0] / s[1], (long) s[1], (long) s[2]));
        }
        err.println(summary);
        return 0;
    }

    private int flush(CompositeReward composite, List<ObjectNode> rows, List<Completion> batch, Writer w,
                      Map<String, double[]> sums) throws IOException {
        RewardBatchResult r = composite.score(batch);
        for (int i = 0; i < rows.size(); i++) {
            ObjectNode row = rows.get(i);
            ObjectNode rw = row.putObject("rewards");
            for (Map.Entry<String, Double> e : r.perCompletion(i).entrySet()) {
                if (e.getValue() == null) rw.putNull(e.getKey());
                else rw.put(e.getKey(), e.getValue());
                double[] s = sums.computeIfAbsent(e.getKey(), k -> new double[3]);
                if (e.getValue() != null) { s[0] += e.getValue(); s[1]++; }
            }
            row.put("reward", r.totals()[i]);
            w.write(JSON.writeValueAsString(row));
            w.write('\n');
        }
        for (String name : r.names()) sums.computeIfAbsent(name, k -> new double[3])[2] += r.metrics().get("rewards/" + name + "/errors");
        int n = rows.size();
        rows.clear();
        batch.clear();
        return n;
    }

    private ObjectNode parseRow(String line, int lineNo) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            throw new IOException(input + " line " + lineNo + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(n instanceof ObjectNode o)) throw new IOException(input + " line " + lineNo + ": expected a JSON object");
        if (!o.hasNonNull("completion") || !o.get("completion").isTextual()) {
            throw new IOException(input + " line " + lineNo + ": missing the 'completion' string");
        }
        return o;
    }

    private Completion toCompletion(ObjectNode row, int lineNo) throws IOException {
        Map<String, Object> cols = new LinkedHashMap<>();
        var it = row.fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!RESERVED.contains(e.getKey())) cols.put(e.getKey(), JSON.convertValue(e.getValue(), new TypeReference<Object>() { }));
        }
        int[] ids = new int[0];
        if (row.has("token_ids")) {
            JsonNode t = row.get("token_ids");
            if (!t.isArray()) throw new IOException(input + " line " + lineNo + ": 'token_ids' must be an array of integers");
            ids = new int[t.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!t.get(i).canConvertToInt()) throw new IOException(input + " line " + lineNo + ": 'token_ids' must be integers");
                ids[i] = t.get(i).intValue();
            }
        }
        String id = row.hasNonNull("id") ? row.get("id").asText() : "line " + lineNo;
        return new Completion(id, row.path("prompt").asText(""), row.get("completion").asText(), ids,
                row.hasNonNull("finish_reason") ? row.get("finish_reason").asText() : null, cols);
    }
}
