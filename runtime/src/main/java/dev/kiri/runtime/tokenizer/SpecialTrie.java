package dev.kiri.runtime.tokenizer;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * The texts of the special tokens as a character trie, to find in one pass over a text which of
 * them occur in it at all. Vocabularies with thousands of user-defined tokens (DeepSeek's
 * {@code [PAD…]} fillers) then cost one scan per encode instead of one scan per token.
 */
final class SpecialTrie {
    private static final class Node {
        final Map<Character, Node> next = new HashMap<>(4);
        /** Index into the special-token list of the token ending here, or -1. */
        int index = -1;
    }

    private final Node root = new Node();
    private final BitSet firstChars = new BitSet();

    /** @param texts the special tokens' texts, by their index in the special-token list */
    SpecialTrie(String[] texts) {
        for (int k = 0; k < texts.length; k++) {
            String t = texts[k];
            if (t.isEmpty()) continue;
            firstChars.set(t.charAt(0));
            Node n = root;
            for (int i = 0; i < t.length(); i++) n = n.next.computeIfAbsent(t.charAt(i), c -> new Node());
            n.index = k;
        }
    }

    /** Sets bit k of {@code present} for every special token k that occurs somewhere in {@code s}. */
    void occurring(String s, BitSet present) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (!firstChars.get(c)) continue;
            Node node = root.next.get(c);
            for (int j = i + 1; node != null; j++) {
                if (node.index >= 0) present.set(node.index);
                if (j == n) break;
                node = node.next.get(s.charAt(j));
            }
        }
    }
}
