package io.r1kit.bench;

/** Entry point of {@code bin/r1kit bench}. */
public final class BenchMain {
    public static void main(String[] args) {
        System.out.println("bench: not built yet");
    }
}
