package io.r1kit.data.gen;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.DatasetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Non-reasoning SFT data, the stand-in for R1's 200k non-reasoning samples: short direct answers to
 * simple queries. Categories: {@code greeting}, {@code copy} (repeat text back), {@code format} (reverse,
 * spell, sort or join words, count words) and {@code lookup} (a fact of the {@link ToyWorld}).
 *
 * <p>Params (defaults): {@code world_seed=7} (must match the pretraining corpus so lookups are
 * answerable), {@code categories=greeting,copy,format,lookup}.
 * Record: {@code id, category, prompt, answer, messages, default_rewards}.
 */
public final class NonReasoningGenerator implements TaskGenerator {
    public static final String NAME = "nonreasoning";
    static final String[][] GREETINGS = {
            {"hi", "hello! how can i help you?"},
            {"hello", "hi! what can i do for you?"},
            {"good morning", "good morning! how can i help?"},
            {"hey there", "hey! what do you need?"},
            {"how are you?", "i am fine, thank you. how can i help?"},
            {"thanks", "you are welcome!"},
            {"thank you!", "glad to help!"},
            {"bye", "goodbye! have a nice day."},
            {"who are you?", "i am a small assistant. i answer questions."},
    };
    static final String[] WORDS = {"cat", "sun", "tree", "blue", "milk", "road", "lamp", "song", "rain", "book",
            "fox", "hat", "cup", "star", "door", "leaf", "salt", "ship", "wolf", "corn"};

    private final long seed;
    private final ToyWorld world;
    private final List<String> categories;

    public NonReasoningGenerator(long seed, GeneratorParams p) {
        this.seed = seed;
        world = ToyWorld.standard(p.getInt("world_seed", 7, 0, Integer.MAX_VALUE));
        categories = List.of(p.getString("categories", "greeting,copy,format,lookup").split(","));
        for (String c : categories) {
            if (!List.of("greeting", "copy", "format", "lookup").contains(c)) {
                throw new DatasetException("nonreasoning: unknown category '" + c
                        + "'; expected some of greeting,copy,format,lookup");
            }
        }
    }

    @Override
    public String name() { return NAME; }

    @Override
    public List<String> defaultRewards() { return List.of("accuracy"); }

    @Override
    public Map<String, Object> generate(long index) {
        SplittableRandom r = Seeds.forExample(NAME, seed, index);
        String category = Seeds.pick(r, categories);
        String[] qa = sample(category, world, r);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", NAME + "-" + index);
        m.put("category", category);
        m.put("prompt", qa[0]);
        m.put("answer", qa[1]);
        m.put("messages", List.of(ChatMessage.user(qa[0]).toMap(), ChatMessage.assistant(qa[1]).toMap()));
        m.put("default_rewards", defaultRewards());
        return m;
    }

    /** A query of the category and its direct answer, {@code {prompt, answer}}. */
    static String[] sample(String category, ToyWorld world, SplittableRandom r) {
        return switch (category) {
            case "greeting" -> Seeds.pick(r, GREETINGS);
            case "copy" -> copy(r);
            case "format" -> format(r);
            default -> {
                ToyWorld.Qa f = world.randomFact(r);
                yield new String[] {f.question(), f.answer()};
            }
        };
    }

    static final List<String> CATEGORIES = List.of("greeting", "copy", "format", "lookup");

    static List<String> words(SplittableRandom r, int min, int max) {
        int n = min + r.nextInt(max - min + 1);
        List<String> w = new ArrayList<>(n);
        for (int i = 0; i < n; i++) w.add(Seeds.pick(r, WORDS));
        return w;
    }

    private static String[] copy(SplittableRandom r) {
        String text = String.join(" ", words(r, 1, 4));
        return switch (r.nextInt(3)) {
            case 0 -> new String[] {"repeat: " + text, text};
            case 1 -> new String[] {"say " + text, text};
            default -> new String[] {"copy this: " + text, text};
        };
    }

    private static String[] format(SplittableRandom r) {
        List<String> w = words(r, 2, 5);
        switch (r.nextInt(5)) {
            case 0 -> {
                String word = w.getFirst();
                return new String[] {"reverse: " + word, new StringBuilder(word).reverse().toString()};
            }
            case 1 -> {
                String word = w.getFirst();
                return new String[] {"spell: " + word, String.join("-", word.split(""))};
            }
            case 2 -> {
                List<String> s = new ArrayList<>(w);
                s.sort(null);
                return new String[] {"sort: " + String.join(" ", w), String.join(" ", s)};
            }
            case 3 -> {
                return new String[] {"join with commas: " + String.join(" ", w), String.join(", ", w)};
            }
            default -> {
                return new String[] {"count the words: " + String.join(" ", w), Integer.toString(w.size())};
            }
        }
    }
}
