package io.r1kit.data.gen;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import io.r1kit.data.DatasetException;

/**
 * Preference pairs for the reward model of all-scenario RL, made by rules:
 * <ul>
 *   <li>{@code helpful}: a question about the {@link ToyWorld} or a small sum; chosen answers it right,
 *       rejected is evasive, wrong, off-topic or rude;</li>
 *   <li>{@code harmless}: a harmful request; chosen declines and offers something safe, rejected goes
 *       along with it (in words only: "sure, here is how to …", no real instructions);</li>
 *   <li>{@code overrefusal}: a harmless request; chosen helps, rejected refuses for no reason, so the reward
 *       model does not learn that refusing is always good.</li>
 * </ul>
 * Params (defaults): {@code world_seed=7}, {@code harmless_rate=0.35}, {@code overrefusal_rate=0.15}.
 * Record: {@code id, kind, prompt, chosen, rejected, answer (= chosen), default_rewards}.
 */
public final class PreferenceGenerator implements TaskGenerator {
    public static final String NAME = "preferences";
    static final String[] HARM_VERBS = {"steal", "break into", "poison", "hurt", "trick", "burn down", "cheat on"};
    static final String[] HARM_OBJECTS = {"my neighbor's car", "a shop", "a dog", "my friend", "the school test",
            "a house", "an old man"};
    static final String[] EVASIVE = {"i don't know.", "maybe.", "hard to say.", "why do you ask?", "look it up yourself."};
    static final String[] RUDE = {"that is a silly question.", "figure it out yourself.", "i do not care."};

    private final long seed;
    private final ToyWorld world;
    private final double harmlessRate, overrefusalRate;

    public PreferenceGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        world = ToyWorld.standard(p.getInt("world_seed", 7, 0, Integer.MAX_VALUE));
        harmlessRate = p.getRate("harmless_rate", 0.35);
        overrefusalRate = p.getRate("overrefusal_rate", 0.15);
        if (harmlessRate + overrefusalRate > 1) {
            throw new DatasetException("preferences: harmless_rate + overrefusal_rate must be <= 1");
        }
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() { return List.of("reward_model"); }

    @Override
    public Map<String, Object> generate(long index) {
        SplittableRandom r = Seeds.forExample(NAME, seed, index);
        double u = r.nextDouble();
        String kind, prompt, chosen, rejected;
        if (u < harmlessRate) {
            kind = "harmless";
            String verb = Seeds.pick(r, HARM_VERBS), obj = Seeds.pick(r, HARM_OBJECTS);
            prompt = Seeds.pick(r, new String[] {"how do i " + verb + " " + obj + "?", "help me " + verb + " " + obj + ".",
                    "tell me how to " + verb + " " + obj + "."});
            chosen = Seeds.pick(r, new String[] {"i can't help with that, it could hurt someone. can i help with something else?",
                    "sorry, i won't help to " + verb + " " + obj + ". if you are upset, talking to someone you trust can help.",
                    "i can't do that. it is harmful and may be illegal."});
            rejected = Seeds.pick(r, new String[] {"sure! here is how to " + verb + " " + obj + ": first make sure nobody is watching.",
                    "of course. to " + verb + " " + obj + ", just do it quickly at night.",
                    "easy. i will tell you how to " + verb + " " + obj + " step by step."});
        } else {
            ToyWorld.Qa qa;
            if (r.nextInt(4) == 0) {
                int a = 1 + r.nextInt(50), b = 1 + r.nextInt(50);
                qa = new ToyWorld.Qa("what is " + a + "+" + b + "?", (a + b) + ".", "");
            } else {
                qa = world.randomFact(r);
            }
            prompt = qa.question();
            chosen = qa.answer();
            if (u < harmlessRate + overrefusalRate) {
                kind = "overrefusal";
                rejected = Seeds.pick(r, new String[] {"sorry, i can't help with that.", "i am not able to answer that.",
                        "that request may be unsafe, so i will not answer."});
            } else {
                kind = "helpful";
                rejected = switch (r.nextInt(4)) {
                    case 0 -> Seeds.pick(r, EVASIVE);
                    case 1 -> Seeds.pick(r, RUDE);
                    case 2 -> world.plainText(r);               // off-topic
                    default -> wrongAnswer(qa, r);
                };
                if (rejected.equals(chosen)) rejected = Seeds.pick(r, EVASIVE);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("kind", kind);
        m.put("prompt", prompt);
        m.put("chosen", chosen);
        m.put("rejected", rejected);
        m.put("answer", chosen);
        m.put("default_rewards", defaultRewards());
        return m;
    }

    /** The same kind of answer, but another one: another fact's answer, or a number off by one. */
    private String wrongAnswer(ToyWorld.Qa qa, SplittableRandom r) {
        String a = qa.answer();
        String digits = a.replaceAll("[^0-9]", "");
        if (!digits.isEmpty()) return a.replace(digits, Long.toString(WorkedSolution.wrongAnswer(Long.parseLong(digits), r)));
        for (int t = 0; t < 10; t++) {
            ToyWorld.Qa other = world.randomFact(r);
            if (!other.answer().equals(a) && other.answer().startsWith("in ") == a.startsWith("in ")) return other.answer();
        }
        return Seeds.pick(r, EVASIVE);
    }
}
