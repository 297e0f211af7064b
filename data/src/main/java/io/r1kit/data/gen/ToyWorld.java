package io.r1kit.data.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small made-up world: countries with capitals and flag colours, people with homes, pets and favourite
 * foods. It is a pure function of {@code world_seed}, so the pretraining corpus (which states the facts)
 * and the non-reasoning SFT set and preference pairs (which ask about them) agree.
 */
public final class ToyWorld {
    static final String[] SYLLABLES = {"ka", "lo", "mi", "ra", "zu", "ven", "tor", "pel", "sa", "dri", "no", "bex",
            "ul", "fa", "qui", "mor", "te", "lin", "gar", "os"};
    static final String[] COLORS = {"red", "blue", "green", "yellow", "white", "black", "orange", "purple"};
    static final String[] ANIMALS = {"cat", "dog", "bird", "fish", "goat", "horse", "duck", "frog"};
    static final String[] FOODS = {"bread", "rice", "apples", "soup", "cheese", "beans", "plums", "fish"};
    static final String[] PLACES = {"park", "market", "river", "school", "library", "garden", "station", "hill"};
    static final String[] VERBS = {"walks to", "runs to", "looks at", "sits by", "waits at", "sings near"};
    static final String[] WEATHER = {"sunny", "cold", "windy", "warm", "rainy", "quiet"};

    public record Country(String name, String capital, String flag) {}

    public record Person(String name, String city, String animal, int pets, String food) {}

    public final List<Country> countries;
    public final List<Person> people;

    public ToyWorld(long worldSeed, int countries, int people) {
        SplittableRandom r = new SplittableRandom(worldSeed);
        List<String> used = new ArrayList<>();
        List<Country> cs = new ArrayList<>();
        for (int i = 0; i < countries; i++) {
            cs.add(new Country(name(r, used, 2, 3), name(r, used, 1, 2), Seeds.pick(r, COLORS)));
        }
        List<Person> ps = new ArrayList<>();
        for (int i = 0; i < people; i++) {
            ps.add(new Person(name(r, used, 2, 2), cs.get(r.nextInt(cs.size())).capital(), Seeds.pick(r, ANIMALS),
                    1 + r.nextInt(9), Seeds.pick(r, FOODS)));
        }
        this.countries = List.copyOf(cs);
        this.people = List.copyOf(ps);
    }

    /** The default world (world_seed 7, 40 countries, 60 people). */
    public static ToyWorld standard(long worldSeed) {
        return new ToyWorld(worldSeed, 40, 60);
    }

    private static String name(SplittableRandom r, List<String> used, int minSyl, int maxSyl) {
        while (true) {
            int n = minSyl + r.nextInt(maxSyl - minSyl + 1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) sb.append(Seeds.pick(r, SYLLABLES));
            String s = sb.toString();
            if (!used.contains(s)) {
                used.add(s);
                return s;
            }
        }
    }

    /** A question about a fact and its short answer. */
    public record Qa(String question, String answer, String fact) {}

    /** A random fact as question, answer and the sentence that states it. */
    public Qa randomFact(SplittableRandom r) {
        switch (r.nextInt(5)) {
            case 0 -> {
                Country c = Seeds.pick(r, countries);
                return new Qa("what is the capital of " + c.name() + "?", c.capital() + ".",
                        "the capital of " + c.name() + " is " + c.capital() + ".");
            }
            case 1 -> {
                Country c = Seeds.pick(r, countries);
                return new Qa("what color is the flag of " + c.name() + "?", c.flag() + ".",
                        "the flag of " + c.name() + " is " + c.flag() + ".");
            }
            case 2 -> {
                Person p = Seeds.pick(r, people);
                return new Qa("where does " + p.name() + " live?", "in " + p.city() + ".",
                        p.name() + " lives in " + p.city() + ".");
            }
            case 3 -> {
                Person p = Seeds.pick(r, people);
                return new Qa("how many " + p.animal() + "s does " + p.name() + " have?", p.pets() + ".",
                        p.name() + " has " + p.pets() + " " + p.animal() + (p.pets() == 1 ? "." : "s."));
            }
            default -> {
                Person p = Seeds.pick(r, people);
                return new Qa("what does " + p.name() + " like to eat?", p.food() + ".",
                        p.name() + " likes to eat " + p.food() + ".");
            }
        }
    }

    /** One or two short sentences of everyday prose about the world, no reasoning in them. */
    public String plainText(SplittableRandom r) {
        Person p = Seeds.pick(r, people);
        return switch (r.nextInt(5)) {
            case 0 -> p.name() + " " + Seeds.pick(r, VERBS) + " the " + Seeds.pick(r, PLACES) + ". it is "
                    + Seeds.pick(r, WEATHER) + " today.";
            case 1 -> "in " + p.city() + " the " + Seeds.pick(r, PLACES) + " is " + Seeds.pick(r, WEATHER)
                    + ". a " + Seeds.pick(r, ANIMALS) + " sleeps there.";
            case 2 -> p.name() + " buys " + Seeds.pick(r, FOODS) + " at the market and goes home.";
            case 3 -> "the " + Seeds.pick(r, COLORS) + " " + Seeds.pick(r, ANIMALS) + " " + Seeds.pick(r, VERBS)
                    + " the " + Seeds.pick(r, PLACES) + ".";
            default -> randomFact(r).fact() + " " + randomFact(r).fact();
        };
    }
}
