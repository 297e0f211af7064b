package io.r1kit.grpo.rejection;

import io.r1kit.data.Example;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples {@code n} completions per prompt from a checkpoint. Prompts are rendered and tokenised by
 * {@link Rollouts#prompt} (the GRPO trainer's code: template, left truncation to max_prompt_length),
 * so a rejection-sampling run sees exactly the prompts RL saw. The sampling seed of a chunk is
 * {@code params.seed + first prompt index of the chunk}, so a resumed run regenerates the same samples.
 */
public final class ModelSource implements CandidateSource {
    private final Rollouts rollouts;
    private final Generator generator;
    private final SamplingParams params;
    private final int n;
    private long chunkStart;

    public ModelSource(Rollouts rollouts, Generator generator, SamplingParams params, int n) {
        if (n < 1) throw new IllegalArgumentException("samples_per_prompt must be ≥ 1, got " + n);
        this.rollouts = rollouts;
        this.generator = generator;
        this.params = params;
        this.n = n;
    }

    /** Set by the sampler before each chunk: the index of the chunk's first prompt in the whole prompt set. */
    public void chunkStart(long index) {
        this.chunkStart = index;
    }

    @Override
    public List<List<Candidate>> sample(List<Example> prompts) {
        List<Rollouts.Prompt> ps = new ArrayList<>();
        List<int[]> ids = new ArrayList<>();
        for (Example e : prompts) {
            Rollouts.Prompt p = rollouts.prompt(e);
            ps.add(p);
            ids.add(p.ids());
        }
        List<Completion> cs = generator.generate(ids, n, params.withSeed(params.seed() + chunkStart));
        List<List<Candidate>> out = new ArrayList<>();
        for (int p = 0; p < ps.size(); p++) {
            List<Candidate> one = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                Completion c = cs.get(p * n + j);
                String text = c.text() != null ? c.text() : rollouts.tokenizer().decode(c.tokens(), true);
                one.add(new Candidate(j, ps.get(p).text(), text, c.finishReason().wireName(), c.tokens()));
            }
            out.add(one);
        }
        return out;
    }

    @Override
    public String name() {
        return "model";
    }
}
