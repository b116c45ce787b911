package dev.kiri.runtime;

import java.nio.charset.StandardCharsets;

/**
 * Turns the bytes of generated tokens into text as they arrive, holding back an incomplete UTF-8
 * sequence at the end until its last byte comes (a kanji split over three byte tokens is emitted
 * whole with the third). Bytes that can never form a character become U+FFFD, as in decoding a
 * whole sequence. Reuses its buffer: only the returned strings are allocated.
 */
final class Utf8Stream {
    private byte[] pending = new byte[64];
    private int length;

    /** Adds a token's bytes; returns the text they complete (possibly empty). */
    String accept(byte[] bytes) {
        if (bytes.length == 0) return "";
        if (length + bytes.length > pending.length) {
            byte[] grown = new byte[Math.max(pending.length * 2, length + bytes.length)];
            System.arraycopy(pending, 0, grown, 0, length);
            pending = grown;
        }
        System.arraycopy(bytes, 0, pending, length, bytes.length);
        length += bytes.length;
        int complete = completePrefix();
        if (complete == 0) return "";
        String out = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, length - complete);
        length -= complete;
        return out;
    }

    /** The held-back bytes at the end of a generation: they can no longer complete, so U+FFFD. */
    String finish() {
        if (length == 0) return "";
        String out = new String(pending, 0, length, StandardCharsets.UTF_8);
        length = 0;
        return out;
    }

    /** Forgets everything held back. */
    void reset() {
        length = 0;
    }

    /**
     * Bytes from the start that can be decoded now: all of them unless the buffer ends with the
     * lead byte and some (not all) continuation bytes of a well-formed sequence.
     */
    private int completePrefix() {
        // Look back at most 3 bytes for the lead byte of the last sequence.
        int start = length - 1;
        int lookBack = Math.max(0, length - 4);
        while (start > lookBack && (pending[start] & 0xC0) == 0x80) start--;
        int lead = pending[start] & 0xFF;
        int need;
        if (lead < 0x80) return length;
        else if (lead >= 0xC2 && lead <= 0xDF) need = 2;
        else if (lead >= 0xE0 && lead <= 0xEF) need = 3;
        else if (lead >= 0xF0 && lead <= 0xF4) need = 4;
        else return length; // a stray continuation byte or an invalid lead: nothing to wait for
        int have = length - start;
        if (have >= need) return length;
        // Wait only if what is there so far is a valid beginning (second byte range per lead byte).
        if (have >= 2) {
            int b1 = pending[start + 1] & 0xFF;
            int lo = 0x80, hi = 0xBF;
            if (lead == 0xE0) lo = 0xA0;
            else if (lead == 0xED) hi = 0x9F;
            else if (lead == 0xF0) lo = 0x90;
            else if (lead == 0xF4) hi = 0x8F;
            if (b1 < lo || b1 > hi) return length;
        }
        return start;
    }
}
