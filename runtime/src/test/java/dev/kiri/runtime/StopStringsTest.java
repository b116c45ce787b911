package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {
    @Test
    void stopStringSpanningTokensIsNeverEmitted() {
        StopStrings s = new StopStrings(List.of("</answer>"));
        StringBuilder out = new StringBuilder();
        for (String piece : new String[] {"The ", "answer is 4", "</", "ans", "wer> and more"}) {
            out.append(s.append(piece));
            if (s.stopped()) break;
        }
        assertTrue(s.stopped());
        assertEquals("The answer is 4", out.toString());
    }

    @Test
    void heldBackTextIsReleasedWhenTheStopStringDoesNotComplete() {
        StopStrings s = new StopStrings(List.of("\n\nUser:"));
        assertEquals("Hello", s.append("Hello\n"));
        assertEquals("", s.append("\n"));
        assertEquals("\n\nUse it", s.append("Use it"));
        assertFalse(s.stopped());
        assertEquals("", s.append("\n"));
        assertEquals("\n", s.finish());
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        StopStrings s = new StopStrings(List.of("bar", "oba"));
        assertEquals("fo", s.append("foobar"));
        assertTrue(s.stopped());
        assertEquals("", s.append("more"));
    }

    @Test
    void withoutStopStringsTextPassesThrough() {
        StopStrings s = new StopStrings(List.of());
        assertEquals("abc", s.append("abc"));
        assertEquals("", s.finish());
    }
}
