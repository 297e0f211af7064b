package io.r1kit.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.DatasetSpec;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.pipeline.run.RunDevice;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.stages.EvalStage;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardConfig;
import io.r1kit.rewards.RewardConfigException;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.RewardSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code r1kit eval --model DIR --data FILE --rewards accuracy,format}: evaluates a checkpoint on a
 * data set, like an {@code eval} stage, and prints (or writes) the same JSON as {@code eval/<stage>.json}.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a model directory (HF layout) on a data set with reward functions.",
                "Prints accuracy, format_rate, mean_length, n and every reward's mean as JSON."})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory (config.json, safetensors, tokenizer.json)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "a JSONL/JSON file with prompt and answer columns, or a dataset YAML (path, loader, columns, limit, ...)")
    Path data;

    @Option(names = "--loader", defaultValue = "plain", paramLabel = "NAME", description = "loader of a plain data file: plain, gsm8k or math (default: ${DEFAULT-VALUE})")
    String loader;

    @Option(names = "--rewards", split = ",", paramLabel = "NAME", description = "reward names, weight 1 each (default: accuracy,format)")
    List<String> rewards = new ArrayList<>(List.of("accuracy", "format"));

    @Option(names = "--rewards-config", paramLabel = "FILE.yaml", description = "YAML with a 'rewards:' list (name/class, weight, params); replaces --rewards")
    Path rewardsConfig;

    @Option(names = "--template", defaultValue = "r1-zero", paramLabel = "NAME",
            description = "prompt template: r1-zero, toy, plain, chat or a text with {column} slots (default: ${DEFAULT-VALUE})")
    String template;

    @Option(names = "--think-prefill", description = "end the prompt with \"<think>\\n\" so the model starts reasoning")
    boolean thinkPrefill;

    @Option(names = "--num-samples", defaultValue = "1", paramLabel = "K", description = "samples per prompt; accuracy is pass@1 averaged over them (default: ${DEFAULT-VALUE})")
    int numSamples;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy (default); the R1 paper uses 0.6 with --top-p 0.95")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "top-p when sampling (default: ${DEFAULT-VALUE})")
    double topP;

    @Option(names = "--max-completion-length", defaultValue = "256", paramLabel = "N", description = "tokens generated at most (default: ${DEFAULT-VALUE})")
    int maxCompletionLength;

    @Option(names = "--max-prompt-length", defaultValue = "512", paramLabel = "N", description = "prompt tokens kept at most (default: ${DEFAULT-VALUE})")
    int maxPromptLength;

    @Option(names = "--max-examples", defaultValue = "0", paramLabel = "N", description = "prompts evaluated, 0 = all (default: ${DEFAULT-VALUE})")
    int maxExamples;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEV", description = "auto, cpu, cuda, cuda:N or emulated (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "P",
            description = "fp32 or bf16 (mixed precision of the model on the device; bf16 needs a device) (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--out", paramLabel = "FILE.json", description = "also write the JSON here")
    Path out;

    @Option(names = "--samples", paramLabel = "FILE.jsonl", description = "write every scored completion here")
    Path samplesOut;

    @Override
    public Integer call() throws Exception {
        Dataset set;
        try {
            if (!Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + " is not a directory");
            if (!Files.exists(data)) throw new IllegalArgumentException("--data " + data + " does not exist");
            String n = data.getFileName().toString();
            DatasetSpec spec = n.endsWith(".yaml") || n.endsWith(".yml") ? DatasetSpec.fromYaml(data)
                    : DatasetSpec.fromMap(Map.of("path", data.toAbsolutePath().toString(), "loader", loader), null, "--data");
            set = spec.load(null).train();
            new Evaluator.Options(numSamples, temperature, 0, topP, maxCompletionLength, maxExamples, seed);   // checks the options
        } catch (IllegalArgumentException | DatasetException e) {
            System.err.println("r1kit eval: " + e.getMessage());
            return 2;
        }
        RunDevice dev;
        try {
            dev = RunDevice.select(device, precision, line -> System.err.println("r1kit: " + line));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("r1kit eval: " + e.getMessage());
            return 2;
        }
        List<Path> pluginDirs = List.of(Path.of("plugins"));
        try (Backends.Scope host = dev.activate();
             Tokenizer tok = HfTokenizer.load(model);
             CompositeReward composite = rewardsConfig != null
                     ? CompositeReward.fromConfig(RewardConfig.load(rewardsConfig), pluginDirs, List.of())
                     : CompositeReward.fromSpecs(rewards.stream().map(r -> RewardSpec.named(r.trim(), 1.0)).toList(),
                             RewardRegistry.withPlugins(pluginDirs, List.of()), CompositeReward.DEFAULT_TIMEOUT);
             Rollouts ro = new Rollouts(tok, PromptTemplates.of(template, null, thinkPrefill), composite, maxPromptLength, true,
                     null, null, 1.0)) {
            CausalLM m = dev.place(CausalLM.load(model));   // on a device: generation there, in the chosen precision
            Evaluator.Result r = Evaluator.run(new Generator(m, tok), ro, set,
                    new Evaluator.Options(numSamples, temperature, 0, topP, maxCompletionLength, maxExamples, seed));
            String json = new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(EvalStage.summary(r.metrics()));
            System.out.println(json);
            if (out != null) RunDirectory.writeAtomically(out.toAbsolutePath(), json);
            if (samplesOut != null) writeSamples(r, ro.rewardNames());
            return 0;
        } catch (RewardConfigException e) {
            System.err.println("r1kit eval: " + e.getMessage());
            return 2;
        }
    }

    private void writeSamples(Evaluator.Result r, List<String> names) throws java.io.IOException {
        ObjectMapper json = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        for (Rollouts.Sample s : r.samples()) {
            ObjectNode o = json.createObjectNode();
            s.putCommonFields(o, names);
            o.put("correct", s.correct());
            o.put("formatted", s.formatted());
            sb.append(o).append('\n');
        }
        RunDirectory.writeAtomically(samplesOut.toAbsolutePath(), sb.toString());
    }
}
