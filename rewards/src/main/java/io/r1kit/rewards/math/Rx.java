package io.r1kit.rewards.math;

import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** Compiled-once regular expressions (String.replaceAll compiles on every call, and rewards run per completion). */
final class Rx {
    private static final ConcurrentHashMap<String, Pattern> CACHE = new ConcurrentHashMap<>();

    private Rx() { }

    static Pattern p(String regex) {
        return CACHE.computeIfAbsent(regex, Pattern::compile);
    }

    static String sub(String s, String regex, String replacement) {
        return p(regex).matcher(s).replaceAll(replacement);
    }

    static boolean matches(String s, String regex) {
        return p(regex).matcher(s).matches();
    }
}
