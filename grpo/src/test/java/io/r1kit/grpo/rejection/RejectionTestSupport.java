package io.r1kit.grpo.rejection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.data.Example;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.RewardSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

final class RejectionTestSupport {
    private RejectionTestSupport() {}

    static final ObjectMapper JSON = new ObjectMapper();

    static Example ex(String id, String prompt, String answer) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("answer", answer);
        m.put("language", "en");
        return new Example(id, m);
    }

    static CompositeReward accuracyAndFormat() {
        return CompositeReward.fromSpecs(List.of(RewardSpec.named("accuracy", 1.0), RewardSpec.named("format", 1.0)),
                RewardRegistry.builtins(), CompositeReward.DEFAULT_TIMEOUT);
    }

    /** A source whose candidates are a function of the example; counts the prompts it was asked for. */
    static final class FakeSource implements CandidateSource {
        final Function<Example, List<String>> completions;
        final List<String> asked = new ArrayList<>();

        FakeSource(Function<Example, List<String>> completions) {
            this.completions = completions;
        }

        @Override
        public List<List<Candidate>> sample(List<Example> prompts) {
            List<List<Candidate>> out = new ArrayList<>();
            for (Example e : prompts) {
                asked.add(e.id());
                List<Candidate> one = new ArrayList<>();
                List<String> cs = completions.apply(e);
                for (int j = 0; j < cs.size(); j++) {
                    String c = cs.get(j);
                    boolean truncated = c.startsWith("!len!");
                    one.add(new Candidate(j, "user: " + e.getString("prompt") + "\nassistant:", truncated ? c.substring(5) : c,
                            truncated ? "length" : "stop", null));
                }
                out.add(one);
            }
            return out;
        }

        @Override
        public String name() {
            return "fake";
        }
    }

    static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(file)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }
}
