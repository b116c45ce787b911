package dev.kiri.runtime.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final int[] NO_HISTORY = new int[0];

    private static SamplingParams params(float temp, int topK, float topP, float minP) {
        return new SamplingParams(temp, topK, topP, minP, 1f, 0, 0f, 0f);
    }

    private static float[] randomLogits(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) l[i] = (float) (r.nextGaussian() * 2);
        return l;
    }

    @Test
    void temperatureZeroTakesTheLargestLogitFirstOnTies() {
        Sampler s = new Sampler(5);
        assertEquals(3, s.sample(new float[] {0, 1, 2, 5, 4}, params(0, 40, 0.95f, 0.05f), NO_HISTORY, 0));
        assertEquals(1, s.sample(new float[] {0, 5, 2, 5, 4}, params(0, 40, 0.95f, 0.05f), NO_HISTORY, 0));
    }

    @Test
    void sameSeedGivesTheSameDrawsAndAnotherSeedOtherDraws() {
        int vocab = 1000;
        int[] a = draws(vocab, 7, 200);
        int[] b = draws(vocab, 7, 200);
        int[] c = draws(vocab, 8, 200);
        assertArrayEquals(a, b);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(c));
    }

    private static int[] draws(int vocab, long seed, int n) {
        Sampler s = new Sampler(vocab);
        s.reseed(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = s.sample(randomLogits(i, vocab), params(1f, 0, 1f, 0f), NO_HISTORY, 0);
        return out;
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        Sampler s = new Sampler(300);
        s.reseed(1);
        for (int i = 0; i < 50; i++) {
            float[] l = randomLogits(100 + i, 300);
            int best = Sampler.argmax(l);
            assertEquals(best, s.sample(l.clone(), params(1.5f, 1, 1f, 0f), NO_HISTORY, 0));
            assertEquals(best, s.sample(l.clone(), params(1.5f, 0, 1e-6f, 0f), NO_HISTORY, 0));
            assertEquals(best, s.sample(l.clone(), params(1.5f, 0, 1f, 1f), NO_HISTORY, 0));
        }
    }

    @Test
    void drawsFollowTheSoftmaxAtTheTemperature() {
        float[] logits = {0f, (float) Math.log(2), (float) Math.log(5)}; // probabilities 1:2:5 at temperature 1
        Sampler s = new Sampler(3);
        s.reseed(99);
        int[] counts = new int[3];
        int n = 40_000;
        for (int i = 0; i < n; i++) counts[s.sample(logits.clone(), params(1f, 0, 1f, 0f), NO_HISTORY, 0)]++;
        assertEquals(1 / 8.0, counts[0] / (double) n, 0.01);
        assertEquals(2 / 8.0, counts[1] / (double) n, 0.01);
        assertEquals(5 / 8.0, counts[2] / (double) n, 0.01);
        // Temperature 2 flattens: probabilities proportional to sqrt(1):sqrt(2):sqrt(5).
        java.util.Arrays.fill(counts, 0);
        for (int i = 0; i < n; i++) counts[s.sample(logits.clone(), params(2f, 0, 1f, 0f), NO_HISTORY, 0)]++;
        double z = 1 + Math.sqrt(2) + Math.sqrt(5);
        assertEquals(1 / z, counts[0] / (double) n, 0.01);
    }

    @Test
    void topKAndMinPNeverPickOutsideTheirSets() {
        Sampler s = new Sampler(500);
        s.reseed(5);
        for (int i = 0; i < 200; i++) {
            float[] l = randomLogits(i, 500);
            float[] sorted = l.clone();
            java.util.Arrays.sort(sorted);
            int pick = s.sample(l.clone(), params(3f, 5, 1f, 0f), NO_HISTORY, 0);
            assertTrue(l[pick] >= sorted[500 - 5], "top-5 violated");
            pick = s.sample(l.clone(), params(3f, 0, 1f, 0.5f), NO_HISTORY, 0);
            assertTrue(l[pick] >= sorted[499] + Math.log(0.5) - 1e-5, "min-p 0.5 violated");
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // probabilities 0.5, 0.3, 0.2: top-p 0.7 keeps the first two, never the third
        float[] logits = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        Sampler s = new Sampler(3);
        s.reseed(3);
        int[] counts = new int[3];
        for (int i = 0; i < 5000; i++) counts[s.sample(logits.clone(), params(1f, 0, 0.7f, 0f), NO_HISTORY, 0)]++;
        assertEquals(0, counts[2]);
        assertTrue(counts[1] > 1000, "second token kept: " + counts[1]);
    }

    @Test
    void penaltiesFollowLlamaCpp() {
        Sampler s = new Sampler(4);
        float[] l = {2f, -2f, 1f, 3f};
        int[] history = {0, 1, 0, 3};
        // window of the last 3 tokens: 1, 0, 3 (token 0 once, 1 once, 3 once; token 0 at index 0 is outside)
        s.sample(l, new SamplingParams(0f, 0, 1f, 0f, 2f, 3, 0.5f, 0.25f), history, history.length);
        assertEquals(2f / 2 - 0.5f - 0.25f, l[0], 1e-6);
        assertEquals(-2f * 2 - 0.5f - 0.25f, l[1], 1e-6);
        assertEquals(1f, l[2], 0);
        assertEquals(3f / 2 - 0.5f - 0.25f, l[3], 1e-6);
        // the whole history: token 0 counted twice for the frequency penalty
        float[] m = {2f, -2f, 1f, 3f};
        s.sample(m, new SamplingParams(0f, 0, 1f, 0f, 1f, -1, 0.5f, 0f), history, history.length);
        assertEquals(2f - 2 * 0.5f, m[0], 1e-6);
    }
}
