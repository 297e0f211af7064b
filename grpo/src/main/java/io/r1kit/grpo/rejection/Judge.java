package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import java.util.List;

/** Decides which candidates of one prompt are correct. */
public interface Judge {

    /** One judgement per candidate, in order. */
    List<Judgement> judge(Example example, List<Candidate> candidates);

    /** Keeps everything (distillation on prompts without a reference; the filters still apply). */
    Judge ACCEPT_ALL = (e, cs) -> cs.stream().map(c -> Judgement.accept(java.util.Map.of())).toList();
}
