package dev.kiri.runtime.tokenizer;

import java.util.Arrays;
import java.util.function.IntConsumer;

/** A growable list of ints (token ids during encoding), also usable as an {@link IntConsumer} sink. */
final class IntList implements IntConsumer {
    private int[] a;
    private int n;

    IntList(int capacity) {
        a = new int[Math.max(4, capacity)];
    }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length + (a.length >> 1) + 1);
        a[n++] = v;
    }

    @Override
    public void accept(int v) {
        add(v);
    }

    int size() {
        return n;
    }

    int get(int i) {
        return a[i];
    }

    int[] toArray() {
        return Arrays.copyOf(a, n);
    }
}
