package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import java.util.List;

/** Produces the candidates of a chunk of prompts: one list per prompt, in prompt order. */
public interface CandidateSource {

    List<List<Candidate>> sample(List<Example> prompts);

    /** Name written as {@code source} in the output lines (model, jsonl, ...). */
    String name();
}
