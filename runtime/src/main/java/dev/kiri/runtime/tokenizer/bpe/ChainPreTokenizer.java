package dev.kiri.runtime.tokenizer.bpe;

import java.util.Arrays;
import java.util.List;

/** A pre-tokenizer that applies its split steps one after the other, each to every piece. */
final class ChainPreTokenizer implements PreTokenizer {
    private final String name;
    private final SplitStep[] steps;

    ChainPreTokenizer(String name, SplitStep... steps) {
        this.name = name;
        this.steps = steps.clone();
    }

    @Override
    public List<String> split(String text) {
        return Arrays.asList(splitToArray(text));
    }

    /** As {@link #split}, as an array. */
    String[] splitToArray(String text) {
        Segments s = new Segments(text);
        for (SplitStep step : steps) {
            Segments.Boundaries next = new Segments.Boundaries(s.count() * 2);
            int start = 0;
            for (int i = 0, n = s.count(); i < n; i++) {
                int end = s.end(i);
                step.split(s, start, end, next);
                start = end;
            }
            s.replaceWith(next);
        }
        return s.pieces();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "PreTokenizer[" + name + ": " + Arrays.toString(steps) + "]";
    }
}
