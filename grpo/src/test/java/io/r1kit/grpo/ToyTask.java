package io.r1kit.grpo;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.ColumnTemplate;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A trivially learnable generated task for trainer tests: the prompt is a digit and "=", e.g.
 * {@code "7="}; the completion is correct when its first character is that digit ("copy the digit").
 * A random tiny model (char vocabulary of 17, hidden 32, 2 layers) starts near 1/17 accuracy.
 */
final class ToyTask {
    static final String ALPHABET = "0123456789=ab";

    final CharTokenizer tokenizer = CharTokenizer.fromAlphabet(ALPHABET, List.of());
    final PromptTemplate template = new ColumnTemplate("{prompt}=");

    ToyTask() {}

    CausalLM model(long seed) {
        return CausalLM.random(ModelConfig.llama(tokenizer.vocabSize(), 32, 64, 2, 4, 4).withInitStd(0.1), seed);
    }

    static Dataset digits(int n, long seed, String prefix) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Example> xs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String d = String.valueOf(r.nextInt(10));
            xs.add(new Example(prefix + i, Map.of("prompt", d, "answer", d)));
        }
        return new Dataset(xs);
    }

    /** 1 when the completion starts with the answer digit, else 0. */
    static final class CopyDigit implements RewardFunction {
        @Override
        public String name() {
            return "copy";
        }

        @Override
        public List<Double> score(List<Completion> batch) {
            List<Double> out = new ArrayList<>();
            for (Completion c : batch) out.add(c.text().startsWith(c.columnString("answer")) ? 1.0 : 0.0);
            return out;
        }
    }

    /** 1 when the completion starts with any digit: a dense signal (most groups have differing rewards). */
    static final class AnyDigit implements RewardFunction {
        @Override
        public String name() {
            return "digit";
        }

        @Override
        public List<Double> score(List<Completion> batch) {
            List<Double> out = new ArrayList<>();
            for (Completion c : batch) out.add(!c.text().isEmpty() && Character.isDigit(c.text().charAt(0)) ? 1.0 : 0.0);
            return out;
        }
    }

    static CompositeReward rewards() {
        return new CompositeReward(List.of(new CompositeReward.Member("copy", new CopyDigit(), 1.0, Duration.ofSeconds(30))));
    }

    /** copy + 0.5 · digit. */
    static CompositeReward denseRewards() {
        return new CompositeReward(List.of(new CompositeReward.Member("copy", new CopyDigit(), 1.0, Duration.ofSeconds(30)),
                new CompositeReward.Member("digit", new AnyDigit(), 0.5, Duration.ofSeconds(30))));
    }

    GrpoTrainer.Builder trainer(GrpoConfig config, CausalLM model, Path out) {
        return GrpoTrainer.builder(config).policy(model).tokenizer(tokenizer).template(template)
                .train(digits(400, 1, "train-")).rewards(rewards()).outputDir(out);
    }

    /** As {@link #trainer} with {@link #denseRewards()}. */
    GrpoTrainer.Builder denseTrainer(GrpoConfig config, CausalLM model, Path out) {
        return trainer(config, model, out).rewards(denseRewards());
    }
}
