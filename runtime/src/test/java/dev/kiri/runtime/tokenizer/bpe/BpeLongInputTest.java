package dev.kiri.runtime.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Japanese without spaces is one huge pre-token per sentence run; encoding it must stay close to
 * linear. Measured in thread CPU time, so that other load on the machine does not matter much.
 */
class BpeLongInputTest {
    private static final ThreadMXBean MX = ManagementFactory.getThreadMXBean();

    private static String japanese(int utf8Bytes) {
        // kana and kanji only: no punctuation, so the whole text is a single \p{L}+ piece
        String unit = "吾輩は猫である名前はまだ無いどこで生れたかとんと見当がつかぬ何でも薄暗いじめじめした所で";
        StringBuilder b = new StringBuilder();
        while (b.length() * 3 < utf8Bytes) b.append(unit);
        return b.toString();
    }

    private static long cpuNanos(VocabFixture v, String text, int[] countOut) {
        long start = MX.getCurrentThreadCpuTime();
        int[] ids = v.encode(text);
        countOut[0] = ids.length;
        return MX.getCurrentThreadCpuTime() - start;
    }

    @Test
    void oneMegabyteOfJapaneseWithoutSpacesEncodesInNearLinearTime() {
        for (String name : List.of("llama-bpe", "qwen2")) {
            VocabFixture v = VocabFixture.load(name);
            String small = japanese(64 * 1024);
            String big = japanese(1024 * 1024);
            assertEquals(1, v.spec.preTokenizer().split(big).size(), "one piece");
            int[] n = new int[1];
            long tSmall = Long.MAX_VALUE;
            for (int i = 0; i < 4; i++) tSmall = Math.min(tSmall, Math.max(1, cpuNanos(v, small, n))); // warm
            int smallIds = n[0];
            long tBig = cpuNanos(v, big, n);
            double ratio = (double) tBig / tSmall;
            // 16x the text: about 16-35x the time when n log n with cache misses, 256x when quadratic
            assertTrue(ratio < 80, name + ": 1 MiB took " + tBig / 1_000_000 + " ms of CPU, " + ratio
                    + "x the 64 KiB time");
            assertTrue(tBig < 10_000_000_000L, name + ": 1 MiB took " + tBig / 1_000_000 + " ms of CPU");
            assertTrue(n[0] > 15 * smallIds && n[0] < 17 * smallIds, name + " ids " + n[0] + " vs " + smallIds);
            assertTrue(big.getBytes(StandardCharsets.UTF_8).length >= 1024 * 1024);
        }
    }
}
