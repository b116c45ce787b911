package dev.kiri.runtime;

import java.util.List;

/**
 * Holds back generated text that could be the start of a stop string, so that a stop string split
 * over several tokens is recognised and never emitted. The held-back part is always the longest
 * suffix of the text that is a proper prefix of a stop string, so a match can only start inside it.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder(256);
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    boolean stopped() {
        return stopped;
    }

    /** Adds generated text; returns the part that is now final (possibly empty). */
    String append(String text) {
        if (stops.isEmpty() || stopped) return stopped ? "" : text;
        pending.append(text);
        int match = -1;
        for (String s : stops) {
            int at = pending.indexOf(s);
            if (at >= 0 && (match < 0 || at < match)) match = at;
        }
        if (match >= 0) {
            stopped = true;
            String out = pending.substring(0, match);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) hold = Math.max(hold, suffixPrefix(s));
        int emit = pending.length() - hold;
        if (emit == 0) return "";
        String out = pending.substring(0, emit);
        pending.delete(0, emit);
        return out;
    }

    /** Everything still held back: at the end of generation no stop string can complete any more. */
    String finish() {
        String out = pending.toString();
        pending.setLength(0);
        return out;
    }

    /** Length of the longest suffix of pending that is a proper prefix of s. */
    private int suffixPrefix(String s) {
        int n = pending.length();
        for (int len = Math.min(s.length() - 1, n); len > 0; len--) {
            boolean same = true;
            for (int i = 0; i < len && same; i++) same = pending.charAt(n - len + i) == s.charAt(i);
            if (same) return len;
        }
        return 0;
    }
}
