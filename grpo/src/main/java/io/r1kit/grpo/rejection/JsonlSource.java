package io.r1kit.grpo.rejection;

import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * Candidates already written somewhere (an R1-Zero sampling dump, another model's outputs): each
 * example carries its completion(s) in {@code completionColumn}, a string (one candidate) or a list of
 * strings (several). The prompt text is the example rendered through {@code template}.
 */
public final class JsonlSource implements CandidateSource {
    private final PromptTemplate template;
    private final String completionColumn;

    public JsonlSource(PromptTemplate template, String completionColumn) {
        this.template = template;
        this.completionColumn = completionColumn;
    }

    @Override
    public List<List<Candidate>> sample(List<Example> prompts) {
        List<List<Candidate>> out = new ArrayList<>();
        for (Example e : prompts) {
            Object v = e.get(completionColumn);
            if (v == null) throw new DatasetException("example '" + e.id() + "': missing column '" + completionColumn + "' (the candidate completion)");
            String prompt = template.render(e);
            List<Candidate> one = new ArrayList<>();
            if (v instanceof List<?> l) {
                for (int j = 0; j < l.size(); j++) one.add(new Candidate(j, prompt, String.valueOf(l.get(j)), null, null));
            } else {
                one.add(new Candidate(0, prompt, v.toString(), null, null));
            }
            out.add(one);
        }
        return out;
    }

    @Override
    public String name() {
        return "jsonl";
    }
}
